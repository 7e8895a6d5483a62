#include "gpuinit/harvest/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <thread>

#include "gpuinit/version.hpp"

namespace gpuinit::harvest {

namespace {

struct Sink {
  std::string* body;
  std::map<std::string, std::string>* headers;
  std::uint64_t cap;
  bool over = false;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t len = size * n;
  if (s->body->size() + len > s->cap) {
    s->over = true;
    return 0;  // aborts the transfer
  }
  s->body->append(p, len);
  return len;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t len = size * n;
  std::string line(p, len);
  if (line.rfind("HTTP/", 0) == 0) s->headers->clear();  // a new response (redirect)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    const auto b = value.find_first_not_of(" \t");
    const auto e = value.find_last_not_of(" \t\r\n");
    (*s->headers)[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return len;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool transient(long status) { return status == 429 || status == 502 || status == 503 || status == 504; }

}  // namespace

std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return {"", url};
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

std::vector<std::string> parse_robots(const std::string& text, const std::string& agent) {
  // Groups: consecutive User-agent lines followed by rules. Our own group wins over "*".
  std::vector<std::string> mine, star;
  bool have_mine = false;
  std::vector<std::string> group_agents;
  bool in_rules = false;
  std::istringstream in(text);
  std::string line;
  const std::string me = lower(agent);
  unsigned lines = 0;
  while (std::getline(in, line) && ++lines < 10000) {  // robots files are small; bound it
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = lower(line.substr(0, colon));
    key.erase(std::remove_if(key.begin(), key.end(), [](unsigned char c) { return std::isspace(c); }), key.end());
    std::string value = line.substr(colon + 1);
    const auto b = value.find_first_not_of(" \t");
    const auto e = value.find_last_not_of(" \t\r");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    if (key == "user-agent") {
      if (in_rules) group_agents.clear();
      in_rules = false;
      group_agents.push_back(lower(value));
    } else if (key == "disallow" || key == "allow") {
      in_rules = true;
      if (key == "allow" || value.empty()) continue;
      for (const auto& a : group_agents) {
        if (a == "*") star.push_back(value);
        else if (!a.empty() && me.find(a) != std::string::npos) {
          mine.push_back(value);
          have_mine = true;
        }
      }
    }
  }
  return have_mine ? mine : star;
}

HttpClient::HttpClient(HttpOptions opt) : opt_(std::move(opt)) {
  if (opt_.user_agent.empty())
    opt_.user_agent = std::string("gpu-init/") + kToolVersion + " (+option-ROM research tool)";
  if (!opt_.sleep) opt_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
  if (!curl_) throw HttpError("libcurl could not be initialised", 0);
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void HttpClient::pace() {
  if (have_last_) {
    const auto since = std::chrono::steady_clock::now() - last_;
    if (since < opt_.delay)
      opt_.sleep(std::chrono::duration_cast<std::chrono::milliseconds>(opt_.delay - since));
  }
  last_ = std::chrono::steady_clock::now();
  have_last_ = true;
}

HttpResponse HttpClient::once(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form) {
  pace();
  ++requests_;
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  HttpResponse r;
  Sink sink{&r.body, &r.headers, opt_.max_body_bytes};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, opt_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT, long(opt_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  std::string post;
  if (!form.empty()) {
    for (const auto& [k, v] : form) {
      char* ek = curl_easy_escape(c, k.c_str(), int(k.size()));
      char* ev = curl_easy_escape(c, v.c_str(), int(v.size()));
      if (!post.empty()) post += '&';
      post += std::string(ek ? ek : "") + "=" + (ev ? ev : "");
      curl_free(ek);
      curl_free(ev);
    }
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  if (sink.over)
    throw HttpError(url + ": response larger than " + std::to_string(opt_.max_body_bytes >> 20) + " MiB, refused", 0);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  char* eff = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
  if (eff) r.effective_url = eff;
  if (rc == CURLE_PARTIAL_FILE) {
    r.truncated = true;
    return r;
  }
  if (rc != CURLE_OK) throw HttpError(url + ": " + curl_easy_strerror(rc), -1);
  return r;
}

bool HttpClient::allowed_by_robots(const std::string& url) {
  if (!opt_.obey_robots) return true;
  auto [origin, path] = split_url(url);
  auto it = disallow_.find(origin);
  if (it == disallow_.end()) {
    std::vector<std::string> rules;
    try {
      HttpResponse r = once(origin + "/robots.txt", {});
      if (r.status == 200 && !r.truncated) rules = parse_robots(r.body, "gpu-init");
    } catch (const HttpError&) {
      // No robots file reachable: no rules, as the robots convention says.
    }
    it = disallow_.emplace(origin, std::move(rules)).first;
  }
  for (const auto& prefix : it->second)
    if (path.rfind(prefix, 0) == 0) return false;
  return true;
}

HttpResponse HttpClient::fetch(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form) {
  if (!allowed_by_robots(url)) throw HttpError(url + ": disallowed by the site's robots.txt", 0);
  std::chrono::milliseconds backoff{2000};
  for (unsigned attempt = 0;; ++attempt) {
    HttpResponse r;
    bool network_error = false;
    std::string error;
    try {
      r = once(url, form);
    } catch (const HttpError& e) {
      if (e.status != -1) throw;  // over the size cap: not transient
      network_error = true;
      error = e.what();
    }
    if (!network_error && !transient(r.status)) return r;
    if (attempt >= opt_.max_retries)
      throw HttpError(url + ": giving up after " + std::to_string(attempt + 1) + " attempts (" +
                          (network_error ? error : "HTTP " + std::to_string(r.status)) + ")",
                      network_error ? -1 : r.status);
    std::chrono::milliseconds wait = backoff;
    if (!network_error) {
      auto ra = r.headers.find("retry-after");
      if (ra != r.headers.end()) {
        char* end = nullptr;
        const long secs = std::strtol(ra->second.c_str(), &end, 10);
        if (end && *end == '\0' && secs >= 0) {
          if (std::chrono::seconds(secs) > opt_.max_retry_after)
            throw HttpError(url + ": the site asks to wait " + ra->second + " s (Retry-After), more than the " +
                                std::to_string(opt_.max_retry_after.count()) + " s limit",
                            r.status);
          wait = std::max(wait, std::chrono::milliseconds(secs * 1000));
        }
      }
    }
    if (opt_.log)
      opt_.log("retrying " + url + " in " + std::to_string(wait.count()) + " ms (" +
               (network_error ? error : "HTTP " + std::to_string(r.status)) + ")");
    opt_.sleep(wait);
    backoff *= 2;
  }
}

}  // namespace gpuinit::harvest
