// The lab's directory and its CLI side: nodes from an inventory, Prepare (layout), Start
// (daemonize the supervisor), Status, Request (through DIR/requests/), Down.
#include "lab/lab_rack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "inventory/inventory.h"
#include "lab/lab_rack_internal.h"

namespace racksmith::lab {
namespace {

using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "https://127.0.1.1:8443/" or "127.0.1.1:8443" or "127.0.1.1" -> scheme, host, port.
bool ParseBmcAddress(const std::string& base_url, std::string* scheme, std::string* host,
                     int* port) {
  std::string rest = base_url;
  size_t sep = rest.find("://");
  *scheme = "https";
  if (sep != std::string::npos) {
    *scheme = rest.substr(0, sep);
    rest = rest.substr(sep + 3);
  }
  if (*scheme != "http" && *scheme != "https") return false;
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return false;
  *port = *scheme == "https" ? 443 : 80;
  size_t colon = rest.find(':');
  if (colon != std::string::npos) {
    *port = std::atoi(rest.c_str() + colon + 1);
    rest = rest.substr(0, colon);
  }
  *host = rest;
  return *port > 0 && *port < 65536 && !host->empty();
}

std::string NodeName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "lab-n%02d", i);
  return buf;
}

std::string SshdConfig(const fs::path& dir, const LabNodeSpec& n) {
  fs::path nd = NodeDir(dir, n.name);
  std::ostringstream o;
  o << "# racksmith lab node " << n.name << " (written by `racksmith lab up`)\n"
    << "ListenAddress " << n.ip << ":" << n.ssh_port << "\n"
    << "HostKey " << (nd / "host_key").string() << "\n"
    << "PidFile " << (nd / "sshd.pid").string() << "\n"
    << "AuthorizedKeysFile " << (dir / "keys/authorized_keys").string() << "\n"
    << "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
    << "PermitRootLogin prohibit-password\nUsePAM no\nMaxStartups 200\nUseDNS no\n"
    << "Subsystem sftp /usr/lib/openssh/sftp-server\n"
    // sshd runs the ForceCommand through root's login shell, and bash sources the host's
    // ~/.bashrc for ssh sessions: pointing HOME at the node's own (empty) home keeps the
    // host's shell setup (pyenv, conda) out of every lab command, making nodes hermetic.
    << "SetEnv HOME=" << (nd / "root/root").string() << "\n"
    << "ForceCommand " << (dir / "bin/node-shell").string() << " " << nd.string() << "\n";
  return o.str();
}

// Copies lab/tools into NODE/tools/lib and links each tool name in NODE/tools/bin to it.
Status InstallTools(const fs::path& src, const fs::path& tools) {
  std::error_code ec;
  fs::remove_all(tools / "bin", ec);
  fs::create_directories(tools / "bin", ec);
  fs::create_directories(tools / "lib", ec);
  for (const auto& e : fs::directory_iterator(src, ec)) {
    if (!e.is_regular_file()) continue;
    fs::copy_file(e.path(), tools / "lib" / e.path().filename(),
                  fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError("cannot install " + e.path().string() + ": " + ec.message());
  }
  std::ifstream names(src / "TOOLS");
  std::string name;
  while (names >> name) {
    fs::create_symlink("../lib/labtool.py", tools / "bin" / name, ec);
    if (ec) return IoError("cannot link tool " + name + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

bool IsLoopbackV4(const std::string& address) {
  in_addr a{};
  if (inet_pton(AF_INET, address.c_str(), &a) != 1) return false;
  return (ntohl(a.s_addr) >> 24) == 127;
}

Result<std::vector<LabNodeSpec>> NodesFromInventory(const inventory::Inventory& inv, int ssh_port) {
  std::vector<LabNodeSpec> out;
  std::string errors;
  for (const auto& node : inv.nodes) {
    LabNodeSpec n;
    n.name = node.name;
    n.ip = node.ip;
    n.ssh_port = ssh_port > 0 ? ssh_port : node.ssh.port;
    if (!IsLoopbackV4(n.ip)) {
      errors += node.name + ": ip '" + node.ip +
                "' is not in 127.0.0.0/8; the lab only runs nodes on loopback\n";
    }
    if (!ParseBmcAddress(node.bmc.BaseUrl(), &n.bmc_scheme, &n.bmc_ip, &n.bmc_port)) {
      errors += node.name + ": bmc address '" + node.bmc.address +
                "' is not host[:port] or an http(s) URL\n";
    } else if (!IsLoopbackV4(n.bmc_ip)) {
      errors += node.name + ": bmc address '" + n.bmc_ip +
                "' is not in 127.0.0.0/8; the lab only runs BMCs on loopback\n";
    }
    n.mac = node.mac;
    n.gpu_model = node.hardware.gpus.model;
    n.gpu_count = node.hardware.gpus.model.empty() ? 0 : node.hardware.gpus.count;
    n.nvswitch = node.hardware.nvswitch;
    n.memory_gib = node.hardware.memory_gib;
    n.cpus = node.hardware.cpus;
    for (const auto& d : node.hardware.drives) n.drives.push_back({d.type, d.count, d.size_gb});
    auto get = [](const auto& m, const char* k, std::string* out) {
      auto it = m.find(k);
      if (it != m.end() && !it->second.empty()) *out = it->second;
    };
    get(node.firmware, "bios", &n.bios_version);
    get(node.firmware, "bmc", &n.bmc_version);
    get(node.software, "nvidia_driver", &n.driver_version);
    get(node.software, "cuda", &n.cuda_version);
    out.push_back(std::move(n));
  }
  if (out.empty()) errors += "the inventory has no nodes\n";
  if (!errors.empty()) {
    errors.pop_back();
    return InvalidInput(errors);
  }
  return out;
}

std::vector<LabNodeSpec> GenericNodes(int count, int ssh_port, int bmc_port) {
  std::vector<LabNodeSpec> out;
  for (int i = 1; i <= count; ++i) {
    LabNodeSpec n;
    n.name = NodeName(i);
    n.ip = "127.0.2." + std::to_string(i);
    n.ssh_port = ssh_port;
    n.bmc_scheme = "http";
    n.bmc_ip = "127.0.1." + std::to_string(i);
    n.bmc_port = bmc_port;
    char mac[32];
    std::snprintf(mac, sizeof mac, "02:00:00:00:02:%02x", i);
    n.mac = mac;
    n.gpu_model = "NVIDIA GeForce RTX 3090";
    n.gpu_count = 4;
    n.memory_gib = 256;
    n.cpus = 64;
    out.push_back(n);
  }
  return out;
}

LabRack::LabRack(std::string dir) : dir_(fs::absolute(dir).lexically_normal().string()) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

Status LabRack::Prepare(const LabSettings& settings, const std::vector<LabNodeSpec>& nodes) {
  fs::path dir = dir_;
  std::error_code ec;
  for (const auto& n : nodes) {
    if (!IsLoopbackV4(n.ip) || !IsLoopbackV4(n.bmc_ip))
      return InvalidInput(n.name + ": the lab only runs on 127.0.0.0/8 (ip " + n.ip + ", bmc " +
                          n.bmc_ip + ")");
  }
  for (const char* d : {"keys", "bin", "requests", "nodes"}) fs::create_directories(dir / d, ec);
  if (ec) return IoError("cannot create the lab directory " + dir_ + ": " + ec.message());
  ::mkdir("/run/sshd", 0755);  // sshd's privilege separation dir; absent without systemd
  fs::path src = fs::path(RACKSMITH_SOURCE_DIR) / "lab";
  fs::copy_file(src / "node-shell", dir / "bin/node-shell", fs::copy_options::overwrite_existing,
                ec);
  if (ec) return IoError("cannot install node-shell into " + dir_ + ": " + ec.message());
  fs::path key = dir / "keys/client_ed25519";
  if (!fs::exists(key) && !RunQuiet({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                     "racksmith-lab", "-f", key.string()}))
    return IoError("ssh-keygen failed for " + key.string());
  fs::copy_file(dir / "keys/client_ed25519.pub", dir / "keys/authorized_keys",
                fs::copy_options::overwrite_existing, ec);
  bool tls = false;
  for (const auto& n : nodes) tls = tls || n.bmc_scheme == "https";
  if (tls && !fs::exists(dir / "keys/bmc_cert.pem")) {
    std::string san = "subjectAltName=IP:127.0.0.1";
    for (const auto& n : nodes) san += ",IP:" + n.bmc_ip;
    if (!RunQuiet(
            {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "3650", "-subj", "/CN=racksmith-lab-bmc", "-addext", san, "-keyout",
             (dir / "keys/bmc_key.pem").string(), "-out", (dir / "keys/bmc_cert.pem").string()}))
      return IoError("openssl could not make the lab's BMC certificate");
  }
  // The fresh image every node starts from, and returns to when reimaged.
  fs::path image = dir / "image";
  if (!fs::exists(image / "etc")) {
    for (const char* d :
         {"var/lib", "var/log", "opt", "usr/local/bin", "home", "root", "tmp", "mnt"})
      fs::create_directories(image / d, ec);
    if (!RunQuiet({"cp", "-a", "/etc", (image / "etc").string()}))
      return IoError("cannot copy /etc into the lab image " + image.string());
    // The image presents itself as the distribution the shipped playbooks install on (the
    // binaries stay the host's); on Debian /etc/os-release is a link into /usr/lib.
    fs::remove(image / "etc/os-release", ec);
    Status s = WriteAtomic(image / "etc/os-release",
                           "PRETTY_NAME=\"Ubuntu 22.04 LTS (racksmith lab image)\"\n"
                           "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n"
                           "ID=ubuntu\nID_LIKE=debian\n");
    if (!s.ok()) return s;
    // A GPU image ships NVIDIA's CUDA repository (what the cuda-keyring package installs), so
    // the driver playbook has nothing to download: lab nodes have no network.
    fs::create_directories(image / "etc/apt/sources.list.d", ec);
    s = WriteAtomic(image / "etc/apt/sources.list.d/cuda-ubuntu2204-x86_64.list",
                    "deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] "
                    "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/ /\n");
    if (!s.ok()) return s;
    // ... and NVIDIA's container toolkit repository, for playbooks/container-runtime.yaml.
    s = WriteAtomic(image / "etc/apt/sources.list.d/nvidia-container-toolkit.list",
                    "deb [signed-by=/etc/apt/keyrings/nvidia-container-toolkit.gpg] "
                    "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n");
    if (!s.ok()) return s;
  }
  json models = GpuModels();
  json lab = {{"settings",
               {{"speed", settings.speed},
                {"boot_ms", settings.boot_ms},
                {"bmc_username", settings.bmc_username}}},
              {"nodes", json::array()}};
  for (const auto& n : nodes) {
    lab["nodes"].push_back(SpecToJson(n));
    fs::path nd = NodeDir(dir, n.name);
    fs::create_directories(nd, ec);
    if (!fs::exists(nd / "root/etc")) {
      if (!RunQuiet({"cp", "-a", image.string(), (nd / "root").string()}))
        return IoError(n.name + ": cannot copy the image into " + (nd / "root").string());
      Status s = WriteAtomic(nd / "root/etc/hostname", n.name + "\n");
      if (!s.ok()) return s;
    }
    if (!fs::exists(nd / "host_key") && !RunQuiet({"ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                                                   "-f", (nd / "host_key").string()}))
      return IoError(n.name + ": ssh-keygen failed for its host key");
    Status s = WriteAtomic(nd / "sshd_config", SshdConfig(dir, n));
    if (!s.ok()) return s;
    s = InstallTools(src / "tools", nd / "tools");
    if (!s.ok()) return s;
    // Faults survive `up` again; the hardware is the spec's.
    json facts = NodeFacts(n, models);
    json old = json::parse(ReadTrimmed(FactsPath(dir, n.name)), nullptr, false);
    if (old.is_object() && old.contains("faults")) {
      facts["faults"] = old["faults"];
      facts["fault_specs"] = old.value("fault_specs", json::array());
    }
    s = WriteAtomic(FactsPath(dir, n.name), facts.dump(1));
    if (!s.ok()) return s;
    if (!fs::exists(nd / "boot_id")) (void)WriteAtomic(nd / "boot_id", "");
  }
  return WriteAtomic(dir / "lab.json", lab.dump(1));
}

int LabRack::SupervisorPid() const { return RecordedPid(fs::path(dir_) / "serve.pid", dir_); }

Status LabRack::Start(const std::string& self_exe, const std::string& bmc_password,
                      int64_t timeout_ms) {
  fs::path dir = dir_;
  if (int pid = SupervisorPid(); pid > 0)
    return Error(
        ErrorCode::kConflict,
        "the lab in " + dir_ + " is running already (supervisor pid " + std::to_string(pid) + ")");
  std::error_code ec;
  fs::remove(dir / "serve.ready", ec);
  fs::remove(dir / "serve.failed", ec);
  pid_t child = fork();
  if (child < 0) return IoError("fork failed");
  if (child == 0) {
    // Double fork: the supervisor is nobody's child here, in its own session, with its
    // output in serve.log (never the caller's pipes).
    setsid();
    if (fork() != 0) _exit(0);
    int null = open("/dev/null", O_RDONLY);
    int log = open((dir / "serve.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null >= 0) dup2(null, 0);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    setenv("RACKSMITH_LAB_SIM_PASSWORD", bmc_password.c_str(), 1);
    execl(self_exe.c_str(), self_exe.c_str(), "lab", "--dir", dir_.c_str(), "serve",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  int64_t deadline = NowMs() + timeout_ms;
  while (NowMs() < deadline) {
    if (fs::exists(dir / "serve.ready")) {
      std::string ready = ReadTrimmed(dir / "serve.ready");
      if (ready.rfind("failed: ", 0) == 0)
        return IoError("the lab runs, but these nodes' sshd did not come up: " + ready.substr(8));
      return Status::Ok();
    }
    if (fs::exists(dir / "serve.failed"))
      return IoError("the lab supervisor failed: " + ReadTrimmed(dir / "serve.failed") + " (see " +
                     (dir / "serve.log").string() + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error(ErrorCode::kTimeout, "the lab supervisor was not ready within " +
                                        std::to_string(timeout_ms / 1000) + " s (see " +
                                        (dir / "serve.log").string() + ")");
}

Result<std::vector<LabNodeStatus>> LabRack::NodeStatuses() const {
  fs::path dir = dir_;
  auto lab = LoadLabFile(dir);
  if (!lab.ok()) return lab.error();
  bool running = SupervisorPid() > 0;
  std::vector<LabNodeStatus> out;
  for (const auto& n : lab->second) {
    LabNodeStatus s;
    fs::path nd = NodeDir(dir, n.name);
    s.name = n.name;
    s.ssh = n.ip + ":" + std::to_string(n.ssh_port);
    s.bmc = n.bmc_scheme + "://" + n.bmc_ip + ":" + std::to_string(n.bmc_port);
    s.power = ReadTrimmed(nd / "power");
    s.sshd_pid = RecordedPid(nd / "sshd.pid", SshdNeedle(dir, n.name));
    std::string state = ReadTrimmed(nd / "state");
    s.sshd = !running ? (s.sshd_pid > 0 ? "up" : "down") : state.empty() ? "down" : state;
    s.boot_id = ReadTrimmed(nd / "boot_id");
    json facts = json::parse(ReadTrimmed(FactsPath(dir, n.name)), nullptr, false);
    if (facts.is_object())
      for (const auto& f : facts.value("fault_specs", json::array())) s.faults.push_back(f);
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> LabRack::Request(const std::string& node, const std::string& request,
                                     int64_t timeout_ms) const {
  fs::path dir = dir_;
  auto lab = LoadLabFile(dir);
  if (!lab.ok()) return lab.error();
  bool known = false;
  for (const auto& n : lab->second) known = known || n.name == node;
  if (!known) return NotFound("no node " + node + " in the lab " + dir_);
  if (SupervisorPid() <= 0)
    return Error(ErrorCode::kRefused, "the lab in " + dir_ + " is not running (racksmith lab up)");
  static int counter = 0;
  std::string id = std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) +
                   "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  fs::path req = dir / "requests" / (id + ".req");
  fs::path done = dir / "requests" / (id + ".done");
  Status s = WriteAtomic(req, node + "\n" + request + "\n");
  if (!s.ok()) return s.error();
  int64_t deadline = NowMs() + timeout_ms;
  while (NowMs() < deadline) {
    if (fs::exists(done)) {
      std::string answer = ReadTrimmed(done);
      std::error_code ec;
      fs::remove(done, ec);
      if (answer.rfind("ok", 0) == 0) return answer.size() > 3 ? answer.substr(3) : "";
      return InvalidInput(node + ": " + (answer.size() > 6 ? answer.substr(6) : answer));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::error_code ec;
  fs::remove(req, ec);
  return Error(ErrorCode::kTimeout, node + ": the lab supervisor did not answer '" + request + "'");
}

Result<int> LabRack::Down() {
  fs::path dir = dir_;
  int stopped = 0;
  pid_t sup = SupervisorPid();
  if (sup > 0) {
    ::kill(sup, SIGTERM);
    for (int i = 0; i < 500 && SupervisorPid() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (SupervisorPid() > 0) ::kill(sup, SIGKILL);
    ++stopped;
  }
  // sshds the supervisor did not stop (it was killed): their pids are recorded too.
  std::error_code ec;
  if (fs::exists(dir / "nodes")) {
    for (const auto& e : fs::directory_iterator(dir / "nodes", ec)) {
      std::string node = e.path().filename().string();
      pid_t pid = RecordedPid(e.path() / "sshd.pid", SshdNeedle(dir, node));
      if (pid > 0) {
        ::kill(pid, SIGCONT);
        ::kill(pid, SIGKILL);
        ++stopped;
      }
      fs::remove(e.path() / "sshd.pid", ec);
      if (fs::exists(e.path() / "state")) (void)WriteAtomic(e.path() / "state", "down");
    }
  }
  fs::remove(dir / "serve.pid", ec);
  fs::remove(dir / "serve.ready", ec);
  return stopped;
}

// ---- shared helpers (lab_rack_internal.h) ----

std::string ReadTrimmed(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status WriteAtomic(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!content.empty() && content.back() != '\n') out << "\n";
    if (!out) return IoError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return IoError("cannot write " + path.string() + ": " + ec.message());
  return Status::Ok();
}

pid_t RecordedPid(const fs::path& pid_file, const std::string& needle) {
  std::string s = ReadTrimmed(pid_file);
  if (s.empty()) return -1;
  pid_t pid = static_cast<pid_t>(std::atol(s.c_str()));
  if (pid <= 1) return -1;
  std::string cmdline = ReadProcFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : cmdline)
    if (c == '\0') c = ' ';
  // A zombie has an empty cmdline: it is not running.
  return !cmdline.empty() && cmdline.find(needle) != std::string::npos ? pid : -1;
}

bool RunQuiet(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static json DrivesToJson(const std::vector<LabNodeSpec::Drives>& drives) {
  json out = json::array();
  for (const auto& d : drives)
    out.push_back({{"type", d.type}, {"count", d.count}, {"size_gb", d.size_gb}});
  return out;
}

json SpecToJson(const LabNodeSpec& n) {
  return json{{"name", n.name},
              {"ip", n.ip},
              {"ssh_port", n.ssh_port},
              {"bmc_scheme", n.bmc_scheme},
              {"bmc_ip", n.bmc_ip},
              {"bmc_port", n.bmc_port},
              {"mac", n.mac},
              {"gpu_model", n.gpu_model},
              {"gpu_count", n.gpu_count},
              {"nvswitch", n.nvswitch},
              {"memory_gib", n.memory_gib},
              {"cpus", n.cpus},
              {"drives", DrivesToJson(n.drives)},
              {"bios_version", n.bios_version},
              {"bmc_version", n.bmc_version},
              {"driver_version", n.driver_version},
              {"cuda_version", n.cuda_version}};
}

LabNodeSpec SpecFromJson(const json& j) {
  LabNodeSpec n;
  n.name = j.value("name", "");
  n.ip = j.value("ip", "");
  n.ssh_port = j.value("ssh_port", 22);
  n.bmc_scheme = j.value("bmc_scheme", "https");
  n.bmc_ip = j.value("bmc_ip", "");
  n.bmc_port = j.value("bmc_port", 443);
  n.mac = j.value("mac", "");
  n.gpu_model = j.value("gpu_model", "");
  n.gpu_count = j.value("gpu_count", 0);
  n.nvswitch = j.value("nvswitch", false);
  n.memory_gib = j.value("memory_gib", 0);
  n.cpus = j.value("cpus", 0);
  for (const auto& d : j.value("drives", json::array()))
    n.drives.push_back({d.value("type", ""), d.value("count", 1), d.value("size_gb", int64_t{0})});
  n.bios_version = j.value("bios_version", "");
  n.bmc_version = j.value("bmc_version", "");
  n.driver_version = j.value("driver_version", "");
  n.cuda_version = j.value("cuda_version", "");
  return n;
}

Result<std::pair<LabSettings, std::vector<LabNodeSpec>>> LoadLabFile(const fs::path& dir) {
  json j = json::parse(ReadTrimmed(dir / "lab.json"), nullptr, false);
  if (!j.is_object() || !j.contains("nodes"))
    return NotFound("no lab in " + dir.string() + " (racksmith lab up)");
  LabSettings s;
  json st = j.value("settings", json::object());
  s.speed = st.value("speed", 10.0);
  s.boot_ms = st.value("boot_ms", int64_t{60'000});
  s.bmc_username = st.value("bmc_username", "admin");
  std::vector<LabNodeSpec> nodes;
  for (const auto& n : j["nodes"]) nodes.push_back(SpecFromJson(n));
  return std::make_pair(s, nodes);
}

std::string ReadProcFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end, or the process went away mid-read
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

}  // namespace racksmith::lab
