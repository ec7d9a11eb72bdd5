#include "redfish/http_engine.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "base/clock.h"

namespace racksmith::redfish {
namespace {

int64_t NowMs() { return SystemClock().MonotonicMillis(); }

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "https://10.0.0.1:443/redfish/v1" -> "https://10.0.0.1:443": the unit of the per-BMC limit.
std::string HostKey(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find('/', start);
  return Lower(url.substr(0, end));
}

// "sha256:AB:CD..." or "abcd..." -> 32 raw bytes; empty on a malformed value.
std::string ParseFingerprint(const std::string& text) {
  std::string hex;
  std::string t = Lower(text);
  if (t.rfind("sha256:", 0) == 0) t = t.substr(7);
  for (char c : t) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    hex += c;
  }
  if (hex.size() != 64) return {};
  std::string raw;
  for (size_t i = 0; i < 64; i += 2)
    raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return raw;
}

// Trusts the peer exactly when its leaf certificate's SHA-256 is the pinned one.
int VerifyByFingerprint(X509_STORE_CTX* store, void* arg) {
  const auto* want = static_cast<const std::string*>(arg);
  X509* cert = X509_STORE_CTX_get0_cert(store);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (cert && X509_digest(cert, EVP_sha256(), md, &len) && len == want->size() &&
      CRYPTO_memcmp(md, want->data(), len) == 0) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

CURLcode OnSslContext(CURL*, void* ssl_ctx, void* arg) {
  SSL_CTX_set_cert_verify_callback(static_cast<SSL_CTX*>(ssl_ctx), &VerifyByFingerprint, arg);
  return CURLE_OK;
}

struct Transfer {
  HttpRequest req;
  std::string fingerprint_raw;
  HttpEngine::Callback done;
  std::string host_key;
  int attempt = 0;
  bool counted = false;  // in Impl::pending_per_host_ (queued or in flight on the loop)
  int64_t start_ms = 0;
  int64_t not_before_ms = 0;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  curl_mime* mime = nullptr;
  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};

  std::vector<CURL*>* pool = nullptr;  // where a used handle goes back (the loop's)

  void ReleaseHandle() {
    if (easy) {
      // A reset handle keeps its buffers: at thousands of requests a second, allocating
      // and faulting in a fresh handle's buffers for each was a tenth of the client's CPU.
      if (pool != nullptr && pool->size() < 512) {
        curl_easy_reset(easy);
        pool->push_back(easy);
      } else {
        curl_easy_cleanup(easy);
      }
    }
    if (header_list) curl_slist_free_all(header_list);
    if (mime) curl_mime_free(mime);
    easy = nullptr;
    header_list = nullptr;
    mime = nullptr;
  }
  ~Transfer() { ReleaseHandle(); }
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->resp.body.append(data, size * n);
  // Redfish resources are small; a runaway body is a broken BMC, not data worth keeping.
  if (t->resp.body.size() > (64u << 20)) return 0;
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp.headers.clear();  // a new response (after 100 Continue): forget the old one
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = Lower(line.substr(0, colon));
  std::string value = line.substr(colon + 1);
  auto trim = [](std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    s.erase(0, i);
  };
  trim(value);
  t->resp.headers[name] = value;
  return size * n;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

int PerHostLimit(int max_total, int max_per_host, int hosts) {
  return std::clamp(max_total / std::max(1, hosts), 1, std::max(1, max_per_host));
}

bool IsRetryableStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int64_t ParseRetryAfterMs(const std::string& value, int64_t now_unix_ms) {
  if (value.empty()) return -1;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return -1;
    return std::stoll(value) * 1000;
  }
  time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return -1;
  return std::max<int64_t>(0, static_cast<int64_t>(when) * 1000 - now_unix_ms);
}

class HttpEngine::Impl {
 public:
  explicit Impl(EngineOptions options) : options_(options), rng_(std::random_device{}()) {
    static std::once_flag global_init;
    std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    // Only the loop's thread uses the share, so it needs no lock callbacks.
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_per_host));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(options_.max_idle_connections));
    // Event-driven: libcurl says which sockets to watch and when its next timeout is, and
    // is told exactly which socket is ready. (curl_multi_perform visits every transfer on
    // every wake-up, one poll() each: at 64 transfers in flight that was most of the
    // loop's CPU.)
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    thread_ = std::thread([this] { Run(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
    curl_multi_cleanup(multi_);
    close(epoll_fd_);
    close(wake_fd_);
    for (CURL* e : idle_easy_) curl_easy_cleanup(e);
    curl_share_cleanup(share_);
  }

  void Submit(HttpRequest request, Callback done) {
    auto t = std::make_unique<Transfer>();
    t->req = std::move(request);
    t->done = std::move(done);
    t->host_key = HostKey(t->req.url);
    bool stopping = false;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stop_;
      if (!stopping) {
        ++stats_.requests;
        incoming_.push_back(std::move(t));
        // A loop that is not waiting takes it at its next turn: no system call to wake it.
        wake = loop_waiting_;
        loop_waiting_ = false;
      }
    }
    if (stopping) {
      Fail(std::move(t), ErrorCode::kUnreachable, "cancelled, the HTTP engine is stopping");
      return;
    }
    if (wake) Wake();
  }

  EngineStats Stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  void Run() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
        for (auto& t : incoming_) {
          t->counted = true;
          ++pending_per_host_[t->host_key];
          waiting_.push_back(std::move(t));
        }
        incoming_.clear();
      }
      StartReady();
      // Adding a transfer sets libcurl's timer to 0: run it before waiting.
      RunTimerIfDue();
      DrainDone();
      StartReady();
      epoll_event events[64];
      int timeout_ms = PollTimeoutMs();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!incoming_.empty() || stop_) timeout_ms = 0;  // queued since the top: no sleep
        loop_waiting_ = timeout_ms != 0;
      }
      int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
      {
        std::lock_guard<std::mutex> lock(mu_);
        loop_waiting_ = false;
      }
      int running = 0;
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          uint64_t count = 0;
          ssize_t r = read(wake_fd_, &count, sizeof count);
          (void)r;
          continue;
        }
        int mask = 0;
        if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi_, fd, mask, &running);
      }
      RunTimerIfDue();
      DrainDone();
    }
    // Stopping: fail everything still queued or in flight.
    for (auto& [easy, t] : active_) {
      curl_multi_remove_handle(multi_, easy);
      t->ReleaseHandle();
      Fail(std::move(t), ErrorCode::kUnreachable, "cancelled, the HTTP engine is stopping");
    }
    active_.clear();
    for (auto& t : waiting_)
      Fail(std::move(t), ErrorCode::kUnreachable, "cancelled, the HTTP engine is stopping");
    waiting_.clear();
    std::deque<std::unique_ptr<Transfer>> rest;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rest.swap(incoming_);
    }
    for (auto& t : rest)
      Fail(std::move(t), ErrorCode::kUnreachable, "cancelled, the HTTP engine is stopping");
  }

  void Wake() {
    uint64_t one = 1;
    ssize_t r = write(wake_fd_, &one, sizeof one);
    (void)r;
  }

  // libcurl's socket callback: watch `fd` for what it asks (or stop watching it). Whether
  // the fd is in the epoll set already is kept with libcurl's own record of the socket
  // (curl_multi_assign; libcurl forgets it on REMOVE), so each change is one epoll_ctl:
  // guessing MOD and falling back to ADD cost a failed system call per request.
  static int OnSocket(CURL*, curl_socket_t fd, int what, void* self, void* socketp) {
    auto* impl = static_cast<Impl*>(self);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(impl->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev.events |= EPOLLOUT;
    if (socketp != nullptr) {
      if (epoll_ctl(impl->epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0 || errno != ENOENT) return 0;
    }
    // New to the set (or, defensively, a MOD of an fd the set lost: a closed and reused one).
    if (epoll_ctl(impl->epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      if (errno != EEXIST) return 0;
      epoll_ctl(impl->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    }
    curl_multi_assign(impl->multi_, fd, impl);  // any non-null pointer: "registered"
    return 0;
  }

  // libcurl's timer callback: when to call it back with CURL_SOCKET_TIMEOUT (-1: never).
  static int OnTimer(CURLM*, long timeout_ms, void* self) {
    auto* impl = static_cast<Impl*>(self);
    impl->timer_due_ms_ = timeout_ms < 0 ? -1 : NowMs() + timeout_ms;
    return 0;
  }

  void RunTimerIfDue() {
    // The callback may set a new timer while it runs, or 0 again: run until it is later.
    for (int i = 0; i < 16 && timer_due_ms_ >= 0 && timer_due_ms_ <= NowMs(); ++i) {
      timer_due_ms_ = -1;
      int running = 0;
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }

  int PollTimeoutMs() {
    int64_t now = NowMs();
    int64_t timeout = timer_due_ms_ < 0 ? 1000 : std::max<int64_t>(0, timer_due_ms_ - now);
    for (const auto& t : waiting_) {
      if (t->not_before_ms > now) {
        timeout = std::min(timeout, t->not_before_ms - now);
      } else if (CanStart(*t)) {
        return 0;
      }
    }
    return static_cast<int>(std::clamp<int64_t>(timeout, 0, 1000));
  }

  // Connections per BMC: up to max_per_host while few BMCs have work, one each when many
  // do. Opening a connection costs a TLS handshake (about 2 ms of CPU on each side with
  // OpenSSL 3, more than a dozen requests on an open connection), and with many BMCs in
  // flight the global limit is full anyway: a second connection to one BMC only moves a
  // slot from another BMC while paying for a handshake.
  int PerHostLimit() const {
    return redfish::PerHostLimit(options_.max_total, options_.max_per_host,
                                 static_cast<int>(pending_per_host_.size()));
  }

  bool CanStart(const Transfer& t) const {
    if (static_cast<int>(active_.size()) >= options_.max_total) return false;
    auto it = per_host_.find(t.host_key);
    return it == per_host_.end() || it->second < PerHostLimit();
  }

  void StartReady() {
    int64_t now = NowMs();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (static_cast<int>(active_.size()) >= options_.max_total) break;
      Transfer& t = **it;
      if (t.not_before_ms > now || !CanStart(t)) {
        ++it;
        continue;
      }
      std::unique_ptr<Transfer> owned = std::move(*it);
      it = waiting_.erase(it);
      Start(std::move(owned), now);
    }
  }

  void Start(std::unique_ptr<Transfer> t, int64_t now) {
    const HttpRequest& r = t->req;
    // The deadline starts with the first attempt: time queued behind the limits is free.
    if (t->attempt == 0) t->start_ms = now;
    int64_t remaining = t->start_ms + r.deadline_ms - now;
    if (!r.tls.cert_fingerprint.empty() && t->fingerprint_raw.empty()) {
      t->fingerprint_raw = ParseFingerprint(r.tls.cert_fingerprint);
      if (t->fingerprint_raw.empty()) {
        Fail(std::move(t), ErrorCode::kInvalidInput,
             "the pinned certificate fingerprint is not sha256: followed by 64 hex digits");
        return;
      }
    }
    if (remaining <= 0) {
      Fail(std::move(t), ErrorCode::kTimeout,
           "no answer within the deadline of " + std::to_string(r.deadline_ms) + " ms");
      return;
    }
    ++t->attempt;
    t->resp = HttpResponse{};
    t->errbuf[0] = 0;
    CURL* e = nullptr;
    if (!idle_easy_.empty()) {
      e = idle_easy_.back();
      idle_easy_.pop_back();
    } else {
      e = curl_easy_init();
    }
    t->easy = e;
    t->pool = &idle_easy_;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // never send credentials elsewhere
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(r.connect_timeout_ms, remaining)));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::min(r.attempt_timeout_ms, remaining)));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, r.close_after ? 1L : 0L);  // handles are reused
    // No Accept-Encoding: a BMC's CPU is small and its answers are a few KiB on a LAN.
    // Offering br/gzip (libcurl's "" = all it decodes) made servers that honour it compress
    // every answer: the lab's simulated BMCs spent half their CPU in the brotli encoder.
    if (r.tls.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!r.tls.cert_fingerprint.empty()) {
      // The pin is the whole trust decision; BMC certificates rarely name their address.
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &OnSslContext);
      curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, &t->fingerprint_raw);
      // A cached TLS session would skip the check on a fresh connection.
      curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    } else {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
      if (!r.tls.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.tls.ca_file.c_str());
      // The bundle alone (the system's, or ca_file): with a CA folder as well, libcurl loads
      // and parses the trust store again for every connection instead of caching it.
      curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
      // TLS sessions are shared by every transfer of the loop: a BMC's second connection
      // resumes instead of verifying its certificate again.
      curl_easy_setopt(e, CURLOPT_SHARE, share_);
    }
    if (!r.tls.pinned_pubkey.empty())
      curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, r.tls.pinned_pubkey.c_str());
    if (!r.basic_user.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(e, CURLOPT_USERNAME, r.basic_user.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, r.basic_password.c_str());
    }
    for (const auto& h : r.headers) t->header_list = curl_slist_append(t->header_list, h.c_str());
    // libcurl adds "Expect: 100-continue" to big bodies; some BMCs stall on it.
    t->header_list = curl_slist_append(t->header_list, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
    if (!r.multipart_file.empty()) {
      t->mime = curl_mime_init(e);
      if (!r.multipart_json.empty()) {
        curl_mimepart* p = curl_mime_addpart(t->mime);
        curl_mime_name(p, "UpdateParameters");
        curl_mime_data(p, r.multipart_json.c_str(), r.multipart_json.size());
        curl_mime_type(p, "application/json");
      }
      curl_mimepart* f = curl_mime_addpart(t->mime);
      curl_mime_name(f, "UpdateFile");
      curl_mime_filedata(f, r.multipart_file.c_str());
      curl_mime_type(f, "application/octet-stream");
      curl_easy_setopt(e, CURLOPT_MIMEPOST, t->mime);
    } else if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      if (r.method != "DELETE" || !r.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      }
    }
    if (!r.multipart_file.empty() && r.method != "POST")
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_multi_add_handle(multi_, e);
    int host_now = ++per_host_[t->host_key];
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.attempts;
      if (t->attempt > 1) ++stats_.retries;
      stats_.max_in_flight = std::max(stats_.max_in_flight, static_cast<int>(active_.size()) + 1);
      stats_.max_in_flight_per_host = std::max(stats_.max_in_flight_per_host, host_now);
    }
    active_.emplace(e, std::move(t));
  }

  void DrainDone() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      CURLcode code = msg->data.result;
      auto it = active_.find(e);
      if (it == active_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      active_.erase(it);
      if (--per_host_[t->host_key] <= 0) per_host_.erase(t->host_key);
      curl_multi_remove_handle(multi_, e);
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      long connects = 0;
      curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.connections_opened += connects;
      }
      std::string curl_error = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
      while (!curl_error.empty() && std::isspace(static_cast<unsigned char>(curl_error.back())))
        curl_error.pop_back();
      t->ReleaseHandle();
      t->resp.status = status;
      t->resp.attempts = t->attempt;
      Finish(std::move(t), code, curl_error);
    }
  }

  void Finish(std::unique_ptr<Transfer> t, CURLcode code, const std::string& curl_error) {
    const HttpRequest& r = t->req;
    bool failed_transport = code != CURLE_OK;
    bool retryable = r.idempotent && t->attempt < r.max_attempts &&
                     (failed_transport || IsRetryableStatus(t->resp.status));
    // TLS verification failures are a configuration problem: retrying cannot fix them.
    if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CONNECT_ERROR ||
        code == CURLE_SSL_PINNEDPUBKEYNOTMATCH || code == CURLE_SSL_CACERT_BADFILE ||
        code == CURLE_SSL_CERTPROBLEM)
      retryable = false;
    if (retryable) {
      int64_t delay = -1;
      if (!failed_transport && (t->resp.status == 503 || t->resp.status == 429)) {
        delay = ParseRetryAfterMs(t->resp.Header("retry-after"), UnixMs());
        if (delay >= 0) delay = std::min(delay, options_.retry_after_cap_ms);
      }
      if (delay < 0) {
        int64_t cap = options_.backoff_base_ms << std::min(t->attempt - 1, 20);
        cap = std::min(cap, options_.backoff_max_ms);
        std::uniform_int_distribution<int64_t> jitter(cap / 2, std::max<int64_t>(cap, 1));
        delay = jitter(rng_);
      }
      int64_t now = NowMs();
      if (now + delay < t->start_ms + r.deadline_ms) {
        t->not_before_ms = now + delay;
        waiting_.push_back(std::move(t));
        return;
      }
    }
    if (failed_transport) {
      ErrorCode ec =
          code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnreachable;
      std::string what = curl_error;
      if (code == CURLE_OPERATION_TIMEDOUT)
        what = "no answer within " + std::to_string(r.attempt_timeout_ms) + " ms (" + what + ")";
      Fail(std::move(t), ec, what);
      return;
    }
    Uncount(*t);
    Callback done = std::move(t->done);
    done(std::move(t->resp));
  }

  // The transfer is finished for good: it no longer counts for its host.
  void Uncount(Transfer& t) {
    if (!t.counted) return;
    t.counted = false;
    auto it = pending_per_host_.find(t.host_key);
    if (it != pending_per_host_.end() && --it->second <= 0) pending_per_host_.erase(it);
  }

  void Fail(std::unique_ptr<Transfer> t, ErrorCode code, const std::string& what) {
    Uncount(*t);
    std::string msg = t->req.method + " " + t->req.url + ": " + what;
    if (t->attempt > 1) msg += " (after " + std::to_string(t->attempt) + " attempts)";
    Callback done = std::move(t->done);
    done(Error(code, msg));
  }

  EngineOptions options_;
  std::mt19937_64 rng_;
  CURLM* multi_ = nullptr;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;            // eventfd: Submit and the destructor wake the loop
  int64_t timer_due_ms_ = -1;   // libcurl's next timeout (monotonic ms); -1: none
  CURLSH* share_ = nullptr;
  std::vector<CURL*> idle_easy_;  // reset handles for the next transfers; loop's thread only
  std::thread thread_;
  mutable std::mutex mu_;
  bool stop_ = false;                               // guarded by mu_
  std::deque<std::unique_ptr<Transfer>> incoming_;  // guarded by mu_
  // Guarded by mu_: the loop is in (or about to enter) epoll_wait with nothing queued, so
  // Submit must wake it through wake_fd_; otherwise it takes new transfers on its own.
  bool loop_waiting_ = false;
  EngineStats stats_;                               // guarded by mu_
  // Loop-thread only:
  std::list<std::unique_ptr<Transfer>> waiting_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
  std::unordered_map<std::string, int> per_host_;          // host -> transfers in flight
  std::unordered_map<std::string, int> pending_per_host_;  // host -> queued or in flight
};

HttpEngine::HttpEngine(EngineOptions options) : impl_(std::make_unique<Impl>(options)) {}
HttpEngine::~HttpEngine() = default;

void HttpEngine::Submit(HttpRequest request, Callback done) {
  impl_->Submit(std::move(request), std::move(done));
}

Result<HttpResponse> HttpEngine::Perform(HttpRequest request) {
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  auto future = promise->get_future();
  Submit(std::move(request),
         [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  return future.get();
}

EngineStats HttpEngine::Stats() const { return impl_->Stats(); }

}  // namespace racksmith::redfish
