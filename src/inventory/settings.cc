// Node settings: the keys defaults, profiles and node entries share, applied layer on layer.
#include <algorithm>
#include <cctype>
#include <set>

#include "base/text.h"
#include "inventory/internal.h"

namespace racksmith::inventory::internal {
namespace {

constexpr std::string_view kSettingKeys[] = {"state",    "reason", "bmc",      "ssh",
                                             "hardware", "image",  "firmware", "software",
                                             "slurm",    "mounts", "burnin",   "vars"};

class Applier {
 public:
  Applier(Layer layer, Draft* draft, Diag& diag) : layer_(layer), d_(*draft), diag_(diag) {}

  void Apply(const Tree& s) {
    for (const TreeEntry& e : s.entries) {
      const Tree& v = e.value;
      const std::string& k = e.key;
      if (k == "state") {
        State(v);
      } else if (k == "reason") {
        Str(v, "reason", &d_.node.reason);
      } else if (k == "bmc") {
        Bmc(v);
      } else if (k == "ssh") {
        Ssh(v);
      } else if (k == "hardware") {
        Hardware(v);
      } else if (k == "image") {
        Str(v, "image", &d_.node.image);
      } else if (k == "firmware") {
        Versions(v, "firmware", &d_.node.firmware);
      } else if (k == "software") {
        Versions(v, "software", &d_.node.software);
      } else if (k == "slurm") {
        Slurm(v);
      } else if (k == "mounts") {
        Mounts(v);
      } else if (k == "burnin") {
        Str(v, "burnin", &d_.node.burnin);
      } else if (k == "vars") {
        Vars(v, "vars", &d_.node.vars);
      }
    }
  }

 private:
  void Origin(const std::string& path, const Loc& loc) {
    d_.origins[path] = diag_.ToSourceLoc(loc);
  }

  // Drops every recorded origin at or below `path` (a map or list replaced as a whole).
  void ClearOrigins(const std::string& path) {
    auto it = d_.origins.lower_bound(path);
    while (it != d_.origins.end() &&
           (it->first == path || it->first.compare(0, path.size() + 1, path + ".") == 0)) {
      it = d_.origins.erase(it);
    }
  }

  bool Map(const Tree& v, std::string_view path) {
    if (v.IsMap()) return true;
    diag_.Add(v.loc, "expected a mapping for '" + std::string(path) + "', found " + Describe(v));
    return false;
  }

  void Str(const Tree& v, const std::string& path, std::string* out) {
    if (v.IsNull()) {
      out->clear();
      Origin(path, v.loc);
      return;
    }
    if (ReadString(v, path, out, diag_)) Origin(path, v.loc);
  }

  void Int(const Tree& v, const std::string& path, int64_t min, int64_t max, int* out,
           int fallback) {
    int64_t n = 0;
    if (v.IsNull()) {
      *out = fallback;
      Origin(path, v.loc);
    } else if (ReadInt(v, path, min, max, &n, diag_)) {
      *out = static_cast<int>(n);
      Origin(path, v.loc);
    }
  }

  void Bool(const Tree& v, const std::string& path, bool* out, bool fallback) {
    if (v.IsNull()) {
      *out = fallback;
      Origin(path, v.loc);
    } else if (ReadBool(v, path, out, diag_)) {
      Origin(path, v.loc);
    }
  }

  void List(const Tree& v, const std::string& path, std::vector<std::string>* out) {
    if (v.IsNull()) {
      out->clear();
      Origin(path, v.loc);
    } else if (ReadStringList(v, path, out, diag_)) {
      Origin(path, v.loc);
    }
  }

  void State(const Tree& v) {
    std::string text;
    if (v.IsNull()) {
      d_.node.state = NodeState::kActive;
      Origin("state", v.loc);
      return;
    }
    if (!ReadString(v, "state", &text, diag_)) return;
    if (!ParseNodeState(text, &d_.node.state)) {
      std::string msg = "expected state active, maintenance or retired, found " + Describe(v);
      std::string s = DidYouMean(text, {"active", "maintenance", "retired"});
      if (!s.empty()) msg += "; did you mean '" + s + "'?";
      diag_.Add(v.loc, msg);
      return;
    }
    Origin("state", v.loc);
  }

  void Bmc(const Tree& v) {
    BmcConfig& b = d_.node.bmc;
    if (v.IsScalar() && layer_ == Layer::kNode) return;  // the address: zipped by the loader
    if (v.IsNull()) {
      std::string address = b.address;
      b = BmcConfig{};
      b.address = address;
      ClearOrigins("bmc");
      Origin("bmc", v.loc);
      return;
    }
    if (!v.IsMap()) {
      diag_.Add(v.loc, std::string("expected a mapping for 'bmc'") +
                           (layer_ == Layer::kNode ? " or an address" : "") + ", found " +
                           Describe(v));
      return;
    }
    CheckKeys(v, {"driver", "address", "port", "username", "password", "auth", "tls", "system"},
              "bmc", diag_);
    for (const TreeEntry& e : v.entries) {
      const Tree& x = e.value;
      if (e.key == "driver") {
        std::string t;
        if (!ReadString(x, "bmc.driver", &t, diag_)) continue;
        if (t == "redfish") {
          b.driver = BmcDriver::kRedfish;
        } else if (t == "libvirt") {
          b.driver = BmcDriver::kLibvirt;
        } else {
          diag_.Add(x.loc, "expected bmc.driver redfish or libvirt, found " + Describe(x));
          continue;
        }
        Origin("bmc.driver", x.loc);
      } else if (e.key == "address") {
        if (layer_ != Layer::kNode) {
          diag_.Add(e.key_loc,
                    "expected bmc.address only on a node entry (each node has its own BMC), "
                    "found it in " +
                        std::string(layer_ == Layer::kDefaults ? "defaults" : "a profile"));
        }
      } else if (e.key == "port") {
        Int(x, "bmc.port", 1, 65535, &b.port, 0);
      } else if (e.key == "username") {
        Str(x, "bmc.username", &b.username);
      } else if (e.key == "system") {
        std::string id;
        if (x.IsNull()) {
          Str(x, "bmc.system", &b.system);
        } else if (ReadString(x, "bmc.system", &id, diag_)) {
          // It becomes a path segment (Systems/{Id}): nothing that could leave it.
          if (!IsPlainPathSegment(id)) {
            diag_.Add(x.loc,
                      "expected bmc.system to be a ComputerSystem Id (letters, digits, '.', "
                      "'_', '-'), found " +
                          Describe(x));
          } else {
            b.system = id;
            Origin("bmc.system", x.loc);
          }
        }
      } else if (e.key == "password") {
        if (x.IsNull()) {
          b.password = SecretRef{};
          Origin("bmc.password", x.loc);
        } else if (ReadSecret(x, "bmc.password", &b.password, diag_)) {
          Origin("bmc.password", x.loc);
        }
      } else if (e.key == "auth") {
        std::string t;
        if (!ReadString(x, "bmc.auth", &t, diag_)) continue;
        if (t == "session") {
          b.auth = BmcAuth::kSession;
        } else if (t == "basic") {
          b.auth = BmcAuth::kBasic;
        } else {
          diag_.Add(x.loc, "expected bmc.auth session or basic, found " + Describe(x));
          continue;
        }
        Origin("bmc.auth", x.loc);
      } else if (e.key == "tls") {
        Tls(x);
      }
    }
  }

  void Tls(const Tree& v) {
    TlsConfig& t = d_.node.bmc.tls;
    if (v.IsNull()) {
      t = TlsConfig{};
      ClearOrigins("bmc.tls");
      Origin("bmc.tls", v.loc);
      return;
    }
    if (!Map(v, "bmc.tls")) return;
    CheckKeys(v, {"verify", "ca_file", "fingerprint", "insecure"}, "bmc.tls", diag_);
    const Tree* verify = v.Find("verify");
    const Tree* insecure = v.Find("insecure");
    bool verify_value = true, insecure_value = false;
    bool have_verify =
        verify && !verify->IsNull() && ReadBool(*verify, "bmc.tls.verify", &verify_value, diag_);
    bool have_insecure = insecure && !insecure->IsNull() &&
                         ReadBool(*insecure, "bmc.tls.insecure", &insecure_value, diag_);
    if (have_verify && have_insecure && verify_value == insecure_value) {
      diag_.Add(insecure->loc,
                "expected bmc.tls.insecure to be the opposite of verify, found "
                "both " +
                    std::string(verify_value ? "true" : "false"));
    } else if (have_verify && !verify_value && !have_insecure) {
      diag_.Add(verify->loc,
                "expected 'insecure: true' beside 'verify: false' (turning TLS verification off "
                "must be explicit), found verify: false alone");
    } else if (have_insecure) {
      t.verify = !insecure_value;
      Origin("bmc.tls.verify", insecure->loc);
    } else if (have_verify) {
      t.verify = verify_value;
      Origin("bmc.tls.verify", verify->loc);
    }
    if (const Tree* ca = v.Find("ca_file")) Str(*ca, "bmc.tls.ca_file", &t.ca_file);
    if (const Tree* fp = v.Find("fingerprint")) {
      std::string text;
      if (fp->IsNull()) {
        t.fingerprint.clear();
        Origin("bmc.tls.fingerprint", fp->loc);
      } else if (ReadString(*fp, "bmc.tls.fingerprint", &text, diag_)) {
        std::string hex;
        bool ok = text.rfind("sha256:", 0) == 0;
        for (size_t i = 7; ok && i < text.size(); ++i) {
          if (text[i] == ':') continue;
          if (!std::isxdigit(static_cast<unsigned char>(text[i]))) ok = false;
          hex += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
        }
        if (!ok || hex.size() != 64) {
          diag_.Add(fp->loc, "expected bmc.tls.fingerprint as sha256: and 64 hex digits, found " +
                                 Describe(*fp));
        } else {
          t.fingerprint = "sha256:" + hex;
          Origin("bmc.tls.fingerprint", fp->loc);
        }
      }
    }
  }

  void Ssh(const Tree& v) {
    SshConfig& s = d_.node.ssh;
    if (v.IsNull()) {
      s = SshConfig{};
      ClearOrigins("ssh");
      Origin("ssh", v.loc);
      return;
    }
    if (!Map(v, "ssh")) return;
    CheckKeys(v, {"user", "port", "key", "agent"}, "ssh", diag_);
    for (const TreeEntry& e : v.entries) {
      const Tree& x = e.value;
      if (e.key == "user") {
        Str(x, "ssh.user", &s.user);
        if (s.user.empty()) s.user = "root";
      } else if (e.key == "port") {
        Int(x, "ssh.port", 1, 65535, &s.port, 22);
      } else if (e.key == "agent") {
        Bool(x, "ssh.agent", &s.agent, false);
      } else if (e.key == "key") {
        if (x.IsNull()) {
          s.key = SecretRef{};
          s.key_path.clear();
          Origin("ssh.key", x.loc);
        } else if (x.IsScalar() && (x.text.find("PRIVATE KEY") != std::string::npos ||
                                    x.text.find('\n') != std::string::npos)) {
          // Never echo it: this is the key itself.
          diag_.Add(x.loc,
                    "expected a path to a private key file for 'ssh.key', found key material "
                    "(not shown); put the key in a file and write its path, or {env: VARIABLE} "
                    "or {file: /path/to/key}");
        } else if (x.IsScalar()) {
          s.key = SecretRef{};
          s.key_path = x.text;
          Origin("ssh.key", x.loc);
        } else if (ReadSecret(x, "ssh.key", &s.key, diag_)) {
          s.key_path.clear();
          Origin("ssh.key", x.loc);
        }
      }
    }
  }

  void Hardware(const Tree& v) {
    auto& h = d_.node.hardware;
    if (v.IsNull()) {
      h = inventory::Hardware{};
      ClearOrigins("hardware");
      Origin("hardware", v.loc);
      return;
    }
    if (!Map(v, "hardware")) return;
    CheckKeys(v, {"gpus", "nvswitch", "memory_gib", "cpus", "drives"}, "hardware", diag_);
    for (const TreeEntry& e : v.entries) {
      const Tree& x = e.value;
      if (e.key == "gpus") {
        Gpus(x);
      } else if (e.key == "nvswitch") {
        Bool(x, "hardware.nvswitch", &h.nvswitch, false);
      } else if (e.key == "memory_gib") {
        Int(x, "hardware.memory_gib", 0, 1 << 24, &h.memory_gib, 0);
      } else if (e.key == "cpus") {
        Int(x, "hardware.cpus", 0, 1 << 20, &h.cpus, 0);
      } else if (e.key == "drives") {
        Drives(x);
      }
    }
  }

  void Gpus(const Tree& v) {
    GpuSpec& g = d_.node.hardware.gpus;
    if (v.IsNull()) {
      g = GpuSpec{};
      ClearOrigins("hardware.gpus");
      Origin("hardware.gpus", v.loc);
      return;
    }
    if (!Map(v, "hardware.gpus")) return;
    CheckKeys(v, {"model", "count"}, "hardware.gpus", diag_);
    if (const Tree* count = v.Find("count")) Int(*count, "hardware.gpus.count", 0, 64, &g.count, 0);
    const Tree* model = v.Find("model");
    if (model == nullptr) return;
    if (model->IsNull()) {
      g.model.clear();
      Origin("hardware.gpus.model", model->loc);
      return;
    }
    std::string text, canonical;
    if (!ReadString(*model, "hardware.gpus.model", &text, diag_)) return;
    if (!CanonicalGpuModel(text, &canonical)) {
      diag_.Add(model->loc,
                "expected a GPU model as nvidia-smi names it (e.g. \"NVIDIA A100-SXM4-"
                "80GB\"; see docs/inventory.md), found " +
                    Describe(*model) + SuggestGpu(text));
      g.model = text;  // already an error; keeps "count without a model" from piling on
      return;
    }
    g.model = canonical;
    Origin("hardware.gpus.model", model->loc);
  }

  static std::string SuggestGpu(const std::string& text);

  void Drives(const Tree& v) {
    auto& drives = d_.node.hardware.drives;
    if (v.IsNull()) {
      drives.clear();
      Origin("hardware.drives", v.loc);
      return;
    }
    if (!v.IsSeq()) {
      diag_.Add(v.loc, "expected a list of drives for 'hardware.drives', found " + Describe(v));
      return;
    }
    std::vector<Drive> out;
    for (const Tree& item : v.items) {
      if (!Map(item, "hardware.drives[]")) return;
      CheckKeys(item, {"type", "count", "size_gb"}, "a drive", diag_);
      Drive d;
      int64_t n = 0;
      const Tree* type = item.Find("type");
      if (type == nullptr) {
        diag_.Add(item.loc, "expected 'type' (nvme, ssd or hdd) in a drive, found none");
      } else if (ReadString(*type, "type", &d.type, diag_) && d.type != "nvme" && d.type != "ssd" &&
                 d.type != "hdd") {
        diag_.Add(type->loc, "expected drive type nvme, ssd or hdd, found " + Describe(*type));
      }
      if (const Tree* c = item.Find("count"); c && ReadInt(*c, "count", 1, 1024, &n, diag_)) {
        d.count = static_cast<int>(n);
      }
      if (const Tree* s = item.Find("size_gb");
          s && ReadInt(*s, "size_gb", 0, int64_t{1} << 40, &n, diag_)) {
        d.size_gb = n;
      }
      out.push_back(d);
    }
    drives = std::move(out);
    Origin("hardware.drives", v.loc);
  }

  void Versions(const Tree& v, const std::string& path, std::map<std::string, std::string>* out) {
    if (v.IsNull()) {
      out->clear();
      ClearOrigins(path);
      Origin(path, v.loc);
      return;
    }
    if (!Map(v, path)) return;
    for (const TreeEntry& e : v.entries) {
      std::string key = path + "." + e.key;
      if (!IsValidName(e.key)) {
        diag_.Add(e.key_loc, "expected a component name ([A-Za-z0-9._-]) in '" + path +
                                 "', found \"" + e.key + "\"");
        continue;
      }
      if (e.value.IsNull()) {
        out->erase(e.key);
        Origin(key, e.value.loc);
        continue;
      }
      if (!e.value.IsScalar() || !IsValidVersion(e.value.text)) {
        diag_.Add(e.value.loc, "expected a version for '" + key +
                                   "' (like \"550.127.05\": letters, digits and . - + _ ~, "
                                   "with a digit), found " +
                                   Describe(e.value));
        continue;
      }
      (*out)[e.key] = e.value.text;
      Origin(key, e.value.loc);
    }
  }

  void Slurm(const Tree& v) {
    SlurmConfig& s = d_.node.slurm;
    if (v.IsNull()) {
      s = SlurmConfig{};
      ClearOrigins("slurm");
      Origin("slurm", v.loc);
      return;
    }
    if (!Map(v, "slurm")) return;
    CheckKeys(v, {"partition", "partitions", "features"}, "slurm", diag_);
    const Tree* one = v.Find("partition");
    const Tree* many = v.Find("partitions");
    if (one && many) {
      diag_.Add(one->loc, "expected either slurm.partition or slurm.partitions, found both");
    } else if (one) {
      std::string name;
      if (one->IsNull()) {
        s.partitions.clear();
        Origin("slurm.partitions", one->loc);
      } else if (ReadString(*one, "slurm.partition", &name, diag_)) {
        s.partitions = {name};
        Origin("slurm.partitions", one->loc);
      }
    } else if (many) {
      List(*many, "slurm.partitions", &s.partitions);
      // A node counts once per partition in max_unavailable: a name listed twice would
      // count it twice and raise a percent budget past the real limit.
      std::set<std::string> seen;
      for (const std::string& p : s.partitions) {
        if (!seen.insert(p).second) {
          diag_.Add(many->loc, "slurm.partitions lists '" + p + "' twice");
          break;
        }
      }
    }
    if (const Tree* f = v.Find("features")) List(*f, "slurm.features", &s.features);
  }

  void Mounts(const Tree& v) {
    if (v.IsNull()) {
      d_.mount_names.clear();
      Origin("mounts", v.loc);
      return;
    }
    if (!v.IsSeq()) {
      diag_.Add(v.loc, "expected a list of mount names for 'mounts', found " + Describe(v));
      return;
    }
    std::vector<std::pair<std::string, Loc>> names;
    for (const Tree& item : v.items) {
      if (!item.IsScalar()) {
        diag_.Add(item.loc, "expected a mount name (defined under top-level 'mounts'), found " +
                                Describe(item));
        return;
      }
      names.emplace_back(item.text, item.loc);
    }
    d_.mount_names = std::move(names);
    Origin("mounts", v.loc);
  }

  // vars: maps merge deeply, anything else replaces; scalars keep their YAML type.
  void Vars(const Tree& v, const std::string& path, nlohmann::json* out) {
    if (v.IsMap()) {
      if (!out->is_object()) *out = nlohmann::json::object();
      for (const TreeEntry& e : v.entries) {
        Vars(e.value, path + "." + e.key, &(*out)[e.key]);
      }
      if (path == "vars") Origin(path, v.loc);
      return;
    }
    if (path == "vars") {
      diag_.Add(v.loc, "expected a mapping for 'vars', found " + Describe(v));
      return;
    }
    ClearOrigins(path);
    *out = ToJson(v);
    Origin(path, v.loc);
  }

  static nlohmann::json ToJson(const Tree& v) {
    switch (v.kind) {
      case Tree::Kind::kNull:
        return nullptr;
      case Tree::Kind::kSeq: {
        nlohmann::json a = nlohmann::json::array();
        for (const Tree& item : v.items) a.push_back(ToJson(item));
        return a;
      }
      case Tree::Kind::kMap: {
        nlohmann::json o = nlohmann::json::object();
        for (const TreeEntry& e : v.entries) o[e.key] = ToJson(e.value);
        return o;
      }
      case Tree::Kind::kScalar:
        break;
    }
    const std::string& t = v.text;
    if (t == "true") return true;
    if (t == "false") return false;
    if (!t.empty() && t.size() < 19 &&
        std::all_of(t.begin() + (t[0] == '-' ? 1 : 0), t.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
        t != "-") {
      return std::strtoll(t.c_str(), nullptr, 10);
    }
    return t;
  }

  Layer layer_;
  Draft& d_;
  Diag& diag_;
};

std::string Applier::SuggestGpu(const std::string& text) {
  std::string s = SuggestGpuModel(text);
  return s.empty() ? "" : "; did you mean '" + s + "'?";
}

}  // namespace

void ApplySettings(const Tree& settings, Layer layer, std::initializer_list<std::string_view> extra,
                   Draft* draft, Diag& diag) {
  std::vector<std::string_view> allowed(std::begin(kSettingKeys), std::end(kSettingKeys));
  allowed.insert(allowed.end(), extra.begin(), extra.end());
  // CheckKeys takes an initializer_list for the common case; this one is assembled.
  const char* what = layer == Layer::kDefaults  ? "defaults"
                     : layer == Layer::kProfile ? "a profile"
                                                : "a node entry";
  for (const TreeEntry& e : settings.entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::vector<std::string> names(allowed.begin(), allowed.end());
    std::string msg = "unknown key '" + e.key + "' in " + what;
    std::string s = DidYouMean(e.key, names);
    if (!s.empty()) msg += "; did you mean '" + s + "'?";
    diag.Add(e.key_loc, std::move(msg));
  }
  Applier(layer, draft, diag).Apply(settings);
}

void CheckResolved(const Draft& draft, Diag& diag) {
  const Node& n = draft.node;
  auto where = [&](const std::string& path) -> SourceLoc {
    auto it = draft.origins.find(path);
    if (it != draft.origins.end()) return it->second;
    if (n.profile_origins) {
      auto jt = n.profile_origins->find(path);
      if (jt != n.profile_origins->end()) return jt->second;
    }
    return n.where;
  };
  if (n.hardware.gpus.count > 0 && n.hardware.gpus.model.empty()) {
    diag.Add(where("hardware.gpus.count"),
             "expected hardware.gpus.model beside hardware.gpus.count " +
                 std::to_string(n.hardware.gpus.count) + ", found no model");
  }
  if (!n.hardware.gpus.model.empty() && n.hardware.gpus.count == 0) {
    diag.Add(where("hardware.gpus.model"),
             "expected hardware.gpus.count of at least 1 beside the model, found 0");
  }
}

}  // namespace racksmith::inventory::internal
