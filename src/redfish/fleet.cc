#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <thread>

#include "redfish/redfish.h"
#include "redfish/redfish_bmc.h"

namespace racksmith::redfish {

RedfishFleet::RedfishFleet(FleetOptions options) : options_(options), engine_(options.engine) {}

RedfishFleet::~RedfishFleet() { CloseAll(); }

std::unique_ptr<bmc::Bmc> RedfishFleet::Connect(const Target& target) {
  std::shared_ptr<RedfishClient> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(target.url, target.username);
    auto it = clients_.find(key);
    if (it != clients_.end()) {
      client = it->second;
    } else {
      client = std::make_shared<RedfishClient>(engine_, target, options_.client);
      clients_.emplace(key, client);
    }
  }
  if (target.tls.insecure)
    spdlog::warn(
        "{}: TLS certificate verification is OFF for this BMC (insecure: true); "
        "anyone on the path can read its credentials",
        client->endpoint());
  return std::make_unique<RedfishBmc>(client, target.system_id);
}

int RedfishFleet::CloseAll() {
  std::vector<std::shared_ptr<RedfishClient>> clients;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, c] : clients_) clients.push_back(c);
  }
  // Log out of many BMCs at once (each DELETE goes through the shared loop), with a bounded
  // number of threads: one per BMC costs more than the logouts at 1,000 BMCs.
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  std::atomic<size_t> next{0};
  size_t n_threads = std::min<size_t>(clients.size(), 64);
  for (size_t k = 0; k < n_threads; ++k) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < clients.size(); i = next++) {
        Status s = clients[i]->Shutdown();
        if (!s.ok()) {
          spdlog::warn("{}", s.error().message());
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return failed;
}

struct InterruptWatcher::State {
  int pipe_fds[2] = {-1, -1};
  struct sigaction old_int {};
  struct sigaction old_term {};
  std::thread thread;
};

namespace {
int g_interrupt_fd = -1;
void OnSignal(int sig) {
  unsigned char b = static_cast<unsigned char>(sig);
  if (g_interrupt_fd >= 0) {
    ssize_t n = write(g_interrupt_fd, &b, 1);
    (void)n;
  }
}
}  // namespace

InterruptWatcher::InterruptWatcher(RedfishFleet& fleet) : state_(std::make_unique<State>()) {
  if (pipe(state_->pipe_fds) != 0) return;
  fcntl(state_->pipe_fds[1], F_SETFD, FD_CLOEXEC);
  fcntl(state_->pipe_fds[0], F_SETFD, FD_CLOEXEC);
  g_interrupt_fd = state_->pipe_fds[1];
  struct sigaction sa {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &state_->old_int);
  sigaction(SIGTERM, &sa, &state_->old_term);
  int read_fd = state_->pipe_fds[0];
  state_->thread = std::thread([read_fd, &fleet] {
    unsigned char b = 0;
    ssize_t n = read(read_fd, &b, 1);
    if (n != 1 || b == 0) return;  // 0: the watcher is going away
    spdlog::warn("interrupted: closing Redfish sessions");
    fleet.CloseAll();
    _exit(130);
  });
}

InterruptWatcher::~InterruptWatcher() {
  if (state_->pipe_fds[1] < 0) return;
  sigaction(SIGINT, &state_->old_int, nullptr);
  sigaction(SIGTERM, &state_->old_term, nullptr);
  g_interrupt_fd = -1;
  unsigned char zero = 0;
  ssize_t n = write(state_->pipe_fds[1], &zero, 1);
  (void)n;
  if (state_->thread.joinable()) state_->thread.join();
  close(state_->pipe_fds[0]);
  close(state_->pipe_fds[1]);
}

}  // namespace racksmith::redfish
