// The TechPowerUp VGA BIOS collection: a listing page per query (links to one detail page
// per BIOS, /vgabios/<id>/<slug>) and a detail page with a download (a link, or a form
// that POSTs the id). Every lookup that fails names the page and what was missing.
#include <regex>
#include <set>

#include "gpuinit/harvest/sources.hpp"

namespace gpuinit::harvest {

namespace {
// A BIOS detail page path: /vgabios/<digits>/<slug>
// Longer hrefs are not BIOS links; the bound also keeps the regex cheap on hostile pages.
constexpr std::size_t kMaxHrefBytes = 2048;
const std::regex kDetailPath(R"(/vgabios/(\d+)(/[^?#]*)?$)");

bool looks_like_download(const HtmlTag& t) {
  auto has = [](const std::string& s) {
    std::string l;
    for (char c : s) l += char(std::tolower(static_cast<unsigned char>(c)));
    return l.find("download") != std::string::npos;
  };
  for (const auto& [k, v] : t.attrs)
    if (has(k) || has(v)) return true;
  return has(t.text);
}
}  // namespace

std::string tpu_listing_url(const TpuQuery& q) {
  std::string base = q.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/vgabios/?manufacturer=" + url_encode(q.vendor) + "&model=" + url_encode(q.gpu);
}

std::vector<TpuEntry> parse_tpu_listing(const std::string& html, const std::string& page_url) {
  std::vector<TpuEntry> out;
  std::set<std::string> seen;
  for (const auto& a : find_tags(html, "a")) {
    auto href = a.attrs.find("href");
    if (href == a.attrs.end() || href->second.size() > kMaxHrefBytes) continue;
    const std::string abs = resolve_url(page_url, href->second);
    const std::string path = split_url(abs).second;
    std::smatch m;
    const std::string path_only = path.substr(0, path.find('?'));
    if (!std::regex_search(path_only, m, kDetailPath)) continue;
    if (!seen.insert(m[1].str()).second) continue;
    out.push_back({m[1].str(), a.text, abs});
  }
  if (out.empty()) {
    // An honest empty result says so on the page; anything else is markup we do not know.
    std::string lower;
    for (char c : html) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("no bios") == std::string::npos && lower.find("no results") == std::string::npos &&
        lower.find("nothing found") == std::string::npos)
      throw MarkupError(page_url + ": no BIOS entries found (no links of the form /vgabios/<id>/<name>); the "
                                   "listing markup may have changed");
  }
  return out;
}

TpuDownload parse_tpu_detail(const std::string& html, const std::string& page_url) {
  TpuDownload d;
  if (auto h1 = find_tags(html, "h1"); !h1.empty()) d.title = h1.front().text;
  // 1. A plain link whose href/text says download.
  for (const auto& a : find_tags(html, "a")) {
    auto href = a.attrs.find("href");
    if (href == a.attrs.end() || href->second.empty() || href->second[0] == '#') continue;
    if (looks_like_download(a)) {
      d.url = resolve_url(page_url, href->second);
      return d;
    }
  }
  // 2. A form with a download button: POST its fields to its action.
  const auto forms = find_tags(html, "form");
  const auto inputs = find_tags(html, "input");
  const auto buttons = find_tags(html, "button");
  for (std::size_t i = 0; i < forms.size(); ++i) {
    const std::size_t begin = forms[i].offset;
    const std::size_t end = i + 1 < forms.size() ? forms[i + 1].offset : html.size();
    bool is_download = looks_like_download(forms[i]);
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& in : inputs) {
      if (in.offset < begin || in.offset >= end) continue;
      if (looks_like_download(in)) is_download = true;
      auto name = in.attrs.find("name");
      if (name == in.attrs.end()) continue;
      auto value = in.attrs.find("value");
      fields.emplace_back(name->second, value == in.attrs.end() ? "" : value->second);
    }
    for (const auto& b : buttons) {
      if (b.offset < begin || b.offset >= end) continue;
      if (looks_like_download(b)) is_download = true;
      auto name = b.attrs.find("name");
      if (name != b.attrs.end()) {
        auto value = b.attrs.find("value");
        fields.emplace_back(name->second, value == b.attrs.end() ? "" : value->second);
      }
    }
    if (!is_download) continue;
    auto action = forms[i].attrs.find("action");
    d.url = resolve_url(page_url, action == forms[i].attrs.end() || action->second.empty() ? page_url : action->second);
    d.form = std::move(fields);
    if (d.form.empty()) d.form.emplace_back("download", "1");  // POST needs a body
    return d;
  }
  throw MarkupError(page_url + ": no download link or download form found; the detail-page markup may have changed");
}

HarvestReport harvest_techpowerup(HttpClient& http, RomStore& store, const TpuQuery& q, const Progress& progress) {
  HarvestReport rep;
  const std::string listing_url = tpu_listing_url(q);
  const HttpResponse listing = http.fetch(listing_url);
  if (listing.status != 200 || listing.truncated)
    throw HttpError(listing_url + ": listing page answered HTTP " + std::to_string(listing.status) +
                        (listing.truncated ? " (truncated)" : ""),
                    listing.status);
  auto entries = parse_tpu_listing(listing.body, listing_url);
  const unsigned total = q.limit ? std::min<unsigned>(q.limit, unsigned(entries.size())) : unsigned(entries.size());
  unsigned done = 0;
  for (const auto& e : entries) {
    if (q.limit && rep.added + rep.duplicates >= q.limit) break;
    if (progress) progress(done, total, e.name);
    ++done;
    if (store.has_source_id("techpowerup", e.id)) {
      ++rep.skipped;  // resumed harvest: already stored
      if (q.limit && rep.added + rep.duplicates + rep.skipped >= q.limit) break;
      continue;
    }
    auto fail = [&](const std::string& reason, const std::string& sentence) { rep.fail(reason, sentence); };
    try {
      const HttpResponse page = http.fetch(e.url);
      if (page.status != 200 || page.truncated) {
        fail("detail-page-http-" + std::to_string(page.status), e.url + ": HTTP " + std::to_string(page.status));
        continue;
      }
      const TpuDownload dl = parse_tpu_detail(page.body, e.url);
      const HttpResponse rom = http.fetch(dl.url, dl.form);
      if (rom.truncated) {
        fail("truncated-download", dl.url + ": download ended early (truncated); nothing stored");
        continue;
      }
      if (rom.status != 200) {
        fail("download-http-" + std::to_string(rom.status), dl.url + ": HTTP " + std::to_string(rom.status));
        continue;
      }
      ManifestEntry meta;
      meta.source = "techpowerup";
      meta.source_id = e.id;
      meta.url = e.url;
      meta.name = !dl.title.empty() ? dl.title : e.name;
      const auto* bytes = reinterpret_cast<const std::uint8_t*>(rom.body.data());
      rep.account(store.add({bytes, rom.body.size()}, meta), dl.url);
    } catch (const MarkupError& ex) {
      fail("markup-changed", ex.what());
    } catch (const HttpError& ex) {
      fail("http-error", ex.what());
    }
  }
  if (progress) progress(total, total, "");
  return rep;
}

}  // namespace gpuinit::harvest
