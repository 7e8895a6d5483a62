// A tolerant scanner for the few HTML facts we need (links, forms, inputs, headings).
// Not a full parser: it walks start tags left to right, always advancing, so hostile
// markup cannot make it loop or read past the end.
#include <cctype>

#include "gpuinit/harvest/sources.hpp"

namespace gpuinit::harvest {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string decode_entities(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 8) {
      out += s[i];
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "#39" || ent == "apos") out += '\'';
    else if (ent == "nbsp") out += ' ';
    else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

std::string strip_tags(const std::string& s) {
  std::string out;
  bool in_tag = false;
  for (char c : s) {
    if (c == '<') in_tag = true;
    else if (c == '>') in_tag = false;
    else if (!in_tag) out += c;
  }
  // collapse whitespace
  std::string col;
  bool space = false;
  for (char c : out) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !col.empty();
      continue;
    }
    if (space) col += ' ';
    space = false;
    col += c;
  }
  return decode_entities(col);
}

}  // namespace

std::vector<HtmlTag> find_tags(const std::string& html, const std::string& name) {
  std::vector<HtmlTag> tags;
  const std::string lname = lower(name);
  const bool has_text = lname == "a" || lname == "h1" || lname == "button" || lname == "option" || lname == "title";
  std::size_t pos = 0;
  while (pos < html.size()) {
    const auto lt = html.find('<', pos);
    if (lt == std::string::npos) break;
    pos = lt + 1;
    std::size_t p = lt + 1;
    std::size_t n = 0;
    while (p + n < html.size() && (std::isalnum(static_cast<unsigned char>(html[p + n])))) ++n;
    if (n == 0 || lower(html.substr(p, n)) != lname) continue;
    HtmlTag tag;
    tag.name = lname;
    tag.offset = lt;
    p += n;
    // attributes until '>'
    while (p < html.size() && html[p] != '>') {
      while (p < html.size() && (std::isspace(static_cast<unsigned char>(html[p])) || html[p] == '/')) ++p;
      const std::size_t ks = p;
      while (p < html.size() && html[p] != '=' && html[p] != '>' && !std::isspace(static_cast<unsigned char>(html[p])))
        ++p;
      std::string key = lower(html.substr(ks, p - ks));
      std::string value;
      while (p < html.size() && std::isspace(static_cast<unsigned char>(html[p]))) ++p;
      if (p < html.size() && html[p] == '=') {
        ++p;
        while (p < html.size() && std::isspace(static_cast<unsigned char>(html[p]))) ++p;
        if (p < html.size() && (html[p] == '"' || html[p] == '\'')) {
          const char q = html[p++];
          const auto end = html.find(q, p);
          const std::size_t stop = end == std::string::npos ? html.size() : end;
          value = html.substr(p, stop - p);
          p = stop + (end == std::string::npos ? 0 : 1);
        } else {
          const std::size_t vs = p;
          while (p < html.size() && html[p] != '>' && !std::isspace(static_cast<unsigned char>(html[p]))) ++p;
          value = html.substr(vs, p - vs);
        }
      }
      if (!key.empty()) tag.attrs.emplace(key, decode_entities(value));
      if (p == ks && p < html.size() && html[p] != '>') ++p;  // always advance
    }
    pos = p;
    if (has_text && p < html.size()) {
      const std::string close = "</" + lname;
      std::size_t q = p + 1;
      std::size_t end = std::string::npos;
      for (std::size_t k = q; k + close.size() <= html.size(); ++k) {
        if (html[k] == '<' && lower(html.substr(k, close.size())) == close) {
          end = k;
          break;
        }
        if (k - q > 4096) break;  // inner text of interest is short
      }
      if (end != std::string::npos) tag.text = strip_tags(html.substr(q, end - q));
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

std::string resolve_url(const std::string& base, const std::string& href) {
  if (href.find("://") != std::string::npos) return href;
  auto [origin, path] = split_url(base);
  if (href.rfind("//", 0) == 0) return origin.substr(0, origin.find("://") + 1) + href;
  if (!href.empty() && href[0] == '/') return origin + href;
  std::string dir = path.substr(0, path.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return origin + dir + href;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += char(c);
    else if (c == ' ') out += '+';
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace gpuinit::harvest
