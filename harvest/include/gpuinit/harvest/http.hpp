// A polite HTTP client: identifies itself, one request at a time with a minimum delay
// between requests, honours 429/503 Retry-After with backoff, retries transient failures a
// bounded number of times, obeys robots.txt, and caps body sizes.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gpuinit::harvest {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string effective_url;
  bool truncated = false;  // the transfer ended before Content-Length bytes arrived
};

struct HttpOptions {
  std::string user_agent;  // default: "gpu-init/<version> (+option-ROM research tool)"
  std::chrono::milliseconds delay{1000};  // between two requests to the site
  unsigned max_retries = 3;               // transient failures (5xx, 429, network)
  std::chrono::seconds max_retry_after{120};  // a longer Retry-After gives up instead
  std::chrono::seconds timeout{60};
  std::uint64_t max_body_bytes = 64ull << 20;  // a ROM is at most a few MiB
  bool obey_robots = true;
  // Called instead of sleeping (tests record waits instead of spending them).
  std::function<void(std::chrono::milliseconds)> sleep;
  // Progress/diagnostic lines (retries, waits); may be empty.
  std::function<void(const std::string&)> log;
};

// Thrown with a sentence naming the URL and the cause.
struct HttpError : std::runtime_error {
  long status;
  HttpError(const std::string& what, long st) : std::runtime_error(what), status(st) {}
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions opt);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET, or POST of url-encoded `form` fields when non-empty. Returns the final response
  // (any status) after retries; throws HttpError when robots.txt forbids the path, the
  // body exceeds the cap, or retries are exhausted on a transient failure.
  HttpResponse fetch(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form = {});

  [[nodiscard]] unsigned requests_made() const noexcept { return requests_; }

 private:
  HttpResponse once(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form);
  void pace();
  bool allowed_by_robots(const std::string& url);

  HttpOptions opt_;
  void* curl_ = nullptr;
  std::chrono::steady_clock::time_point last_{};
  bool have_last_ = false;
  unsigned requests_ = 0;
  std::map<std::string, std::vector<std::string>> disallow_;  // origin -> path prefixes
};

// robots.txt rules that apply to `agent` (its own group, else "*"): Disallow prefixes.
[[nodiscard]] std::vector<std::string> parse_robots(const std::string& text, const std::string& agent);
// "scheme://host[:port]" of a URL, and its path+query.
[[nodiscard]] std::pair<std::string, std::string> split_url(const std::string& url);

}  // namespace gpuinit::harvest
