// racksmith/inventory: the desired state of the cluster, loaded from YAML and fully resolved.
//
// Contract:
// - LoadInventory(path) reads one YAML file or a directory of *.yaml files (non-recursive,
//   merged in file-name order) and returns an `Inventory` whose `nodes` are fully resolved:
//   hostlists expanded, profile inheritance (`extends`) applied, defaults < profile < node
//   (maps merge deeply, scalars and lists replace). docs/inventory.md is the schema.
// - Every error in the input is reported, not just the first, each as an Error whose where()
//   is the 1-based file:line:col and whose message says what was expected and what was found.
//   Input is bounded (file size, nesting depth, alias expansion): bad input is an error,
//   never a crash, never unbounded memory or time.
// - Secrets are only ever `SecretRef`s. Nothing here holds, prints or serialises a secret
//   value; ResolveSecret() reads one, and callers use it at the last moment and drop it.
// - Every resolved value remembers where it came from (Node::OriginOf("software.cuda")).
// - An Inventory is an immutable value after loading: safe to read from many threads.
//   Node pointers returned by FindNode/Select stay valid as long as the Inventory lives.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace racksmith::inventory {

// ---------------------------------------------------------------------------------------
// Limits (documented in docs/inventory.md, section "Limits").

/// Files larger than this are refused before parsing.
inline constexpr size_t kMaxFileBytes = 32 * 1024 * 1024;
/// Maximum nesting of mappings/sequences (checked before yaml-cpp parses).
inline constexpr int kMaxDepth = 64;
/// Maximum YAML nodes made while reading one file (every node an alias copies counts).
inline constexpr size_t kMaxYamlNodes = 2'000'000;
/// Maximum YAML nodes that aliases may copy in one file, all aliases together.
inline constexpr size_t kMaxAliasNodes = 100'000;
/// Maximum number of resolved nodes in one inventory.
inline constexpr size_t kMaxNodes = 200'000;
/// Maximum errors collected before loading stops reporting more.
inline constexpr size_t kMaxErrors = 200;

// ---------------------------------------------------------------------------------------
// Secrets.

/// A reference to a secret: the name of an environment variable or the path of a file.
/// Never holds the secret itself.
struct SecretRef {
  enum class Kind { kNone, kEnv, kFile };
  Kind kind = Kind::kNone;
  std::string ref;  // variable name (kEnv) or file path (kFile, "~/" allowed)

  bool empty() const { return kind == Kind::kNone; }
  /// "{env: NAME}", "{file: PATH}", or "" when empty. Safe to print and log.
  std::string ToString() const;
  friend bool operator==(const SecretRef&, const SecretRef&) = default;
};

/// Reads the secret now: the variable's value, or the file's content with one trailing
/// newline removed ("~/" expands to $HOME). NotFound if the variable is unset or empty or the
/// file is missing; the error names the reference, never a value. Call it immediately before
/// use; do not store, log or print the result.
Result<std::string> ResolveSecret(const SecretRef& secret);

// ---------------------------------------------------------------------------------------
// Value types of a resolved node.

enum class NodeState { kActive, kMaintenance, kRetired };
enum class BmcDriver { kRedfish, kLibvirt };
enum class BmcAuth { kSession, kBasic };
enum class MountType { kNfs, kLustre, kBeegfs, kGpfs, kLocal };

/// "active", "maintenance", "retired" (and so on for the other enums): the YAML spelling.
const char* NodeStateName(NodeState state);
const char* BmcDriverName(BmcDriver driver);
const char* BmcAuthName(BmcAuth auth);
const char* MountTypeName(MountType type);
/// Parses the YAML spelling; false if `text` is not one.
bool ParseNodeState(std::string_view text, NodeState* out);

struct TlsConfig {
  bool verify = true;       // Default: true. false only with an explicit `insecure: true`
  std::string ca_file;      // PEM bundle to verify the BMC's certificate; empty: system CAs
  std::string fingerprint;  // pinned certificate, "sha256:" + 64 hex digits (any case, ':' ok)
  bool insecure() const { return !verify; }
};

struct BmcConfig {
  BmcDriver driver = BmcDriver::kRedfish;
  /// "host", "host:port" or a URL ("https://10.1.0.11:8443", "qemu:///system" for libvirt).
  std::string address;
  int port = 0;          // Default: 0 = from the address, else the driver's default
  std::string username;  // not a secret
  SecretRef password;    // never a literal: {env: NAME} or {file: PATH}
  BmcAuth auth = BmcAuth::kSession;
  TlsConfig tls;
  /// The host's ComputerSystem Id on the BMC (a Redfish resource Id: letters, digits, '.',
  /// '_', '-'), for endpoints that manage several systems (blade chassis) or to read the
  /// system without listing the collection (Dell "System.Embedded.1"). Default: "" = the
  /// first system that is not a DPU.
  std::string system;
  /// The base URL to talk to for redfish: address if it has a scheme, else
  /// "https://address" (with ":port" when port is set and address has none).
  std::string BaseUrl() const;
};

struct SshConfig {
  std::string user = "root";
  int port = 22;
  std::string key_path;  // private key file ("~/" allowed); not a secret itself
  SecretRef key;         // private key material from {env: NAME} or {file: PATH}
  bool agent = false;    // Default: false. Use ssh-agent ($SSH_AUTH_SOCK)
};

struct GpuSpec {
  std::string model;  // as nvidia-smi prints it, e.g. "NVIDIA A100-SXM4-80GB"; empty: none
  int count = 0;
};

struct Drive {
  std::string type;  // nvme | ssd | hdd
  int count = 1;
  int64_t size_gb = 0;  // per drive; 0: unknown
};

struct Hardware {
  GpuSpec gpus;
  bool nvswitch = false;
  int memory_gib = 0;  // 0: not checked
  int cpus = 0;        // logical CPUs; 0: not checked
  std::vector<Drive> drives;
};

struct SlurmConfig {
  std::vector<std::string> partitions;
  std::vector<std::string> features;
};

struct Mount {
  std::string name;  // key under top-level `mounts:`
  MountType type = MountType::kNfs;
  std::string source;  // "server:/export" (nfs), "mgs@tcp:/fs" (lustre), fs name, or device
  std::string target;  // absolute path on the node
  std::vector<std::string> options;
  SourceLoc where;  // the mount's definition
};

/// Where each resolved value came from, keyed by dotted path ("software.nvidia_driver",
/// "hardware.gpus.model", "bmc.password", "mounts"). Shared by nodes of one entry.
using OriginMap = std::map<std::string, SourceLoc, std::less<>>;

/// One resolved node.
struct Node {
  std::string name;
  std::string rack;
  int position = 0;     // 1-based order of the node within its rack (inventory order)
  int unit = 0;         // lowest rack unit (U) it occupies; 0: not given
  int height = 1;       // rack units it occupies
  std::string profile;  // empty if the node names none
  std::string ip;       // management IP (SSH goes here)
  std::string mac;      // lower-case "aa:bb:cc:dd:ee:ff"; empty: not given
  NodeState state = NodeState::kActive;
  std::string reason;  // why it is in its state; may be empty
  BmcConfig bmc;       // bmc.address is this node's BMC
  SshConfig ssh;
  Hardware hardware;
  std::string image;
  std::map<std::string, std::string> firmware;  // component -> version: bios, bmc, nic, ...
  std::map<std::string, std::string> software;  // nvidia_driver, cuda, slurm, ...
  SlurmConfig slurm;
  std::vector<Mount> mounts;  // resolved from the names the node's settings list, in order
  std::string burnin;         // burn-in profile name; empty: none
  nlohmann::json vars = nlohmann::json::object();  // free-form, merged deeply
  SourceLoc where;                                 // the node entry that defines this node
  /// What the node entry set (shared by the nodes of one entry), and what defaults and the
  /// profile chain set (shared by every node of the profile). Read them through OriginOf.
  std::shared_ptr<const OriginMap> origins;
  std::shared_ptr<const OriginMap> profile_origins;

  /// Where `path` was set: the exact path, else its nearest parent ("vars.a.b" -> "vars.a"
  /// -> "vars"), the node entry before the profile. nullptr when the value is a built-in
  /// default.
  const SourceLoc* OriginOf(std::string_view path) const;
  /// Every path with its origin, node entry winning over profile, sorted by path.
  OriginMap AllOrigins() const;
};

struct Rack {
  std::string name;
  std::string location;  // free text: room, row
  int position = 0;      // place in its row; 0: not given
  int height = 42;       // rack units
  SourceLoc where;
  std::vector<size_t> nodes;  // indices into Inventory::nodes, in order
};

struct Profile {
  std::string name;
  std::string extends;  // parent profile; empty: none
  std::string description;
  SourceLoc where;
};

/// A loaded, validated, resolved inventory.
struct Inventory {
  std::string site;
  SourceLoc site_where;            // where `site:` is set
  std::string path;                // what LoadInventory was given
  std::vector<std::string> files;  // files read, in merge order
  std::vector<Rack> racks;         // in inventory order
  std::vector<Profile> profiles;   // in inventory order
  std::map<std::string, Mount> mounts;
  std::vector<Node> nodes;  // inventory order: racks in order, entries in order, hostlist order

  /// nullptr if there is no such node. O(1) once Reindex() ran (the loader runs it).
  const Node* FindNode(std::string_view name) const;
  const Rack* FindRack(std::string_view name) const;
  const Profile* FindProfile(std::string_view name) const;
  /// Rebuilds the name index; call after changing `nodes` by hand (tests).
  void Reindex();

 private:
  std::unordered_map<std::string, size_t> by_name_;
};

// ---------------------------------------------------------------------------------------
// Loading.

/// Everything one load found: the inventory (complete only when errors is empty) and every
/// error, sorted by file, line, column.
struct LoadOutcome {
  Inventory inventory;
  std::vector<Error> errors;
  bool ok() const { return errors.empty(); }
};

/// Loads a file or a directory of *.yaml / *.yml files. Never throws.
LoadOutcome LoadInventoryAll(const std::string& path);
/// Loads YAML text as if it were the file `filename` (tests, fuzzing, stdin).
LoadOutcome LoadInventoryFromStringAll(std::string_view yaml, const std::string& filename);

/// As above, but all errors are joined into one InvalidInput error (one per line, each
/// "file:line:col: message").
Result<Inventory> LoadInventory(const std::string& path);
Result<Inventory> LoadInventoryFromString(std::string_view yaml,
                                          const std::string& filename = "<string>");

// ---------------------------------------------------------------------------------------
// Views.

/// The node's full context for templates and --json: every resolved value under the same
/// keys as the YAML (name, site, rack{name,position,unit,height,location}, profile, state,
/// reason, ip, mac, bmc{...}, ssh{...}, hardware{...}, image, firmware{}, software{},
/// slurm{partitions,features}, mounts[{name,type,source,target,options}], burnin, vars{}).
/// Secrets appear as their reference text ("{env: NAME}"), never as values.
nlohmann::json NodeContext(const Inventory& inventory, const Node& node);

/// True if `model` is a GPU model name racksmith knows (as nvidia-smi prints it, or a
/// documented alias); `canonical` gets the nvidia-smi spelling.
bool CanonicalGpuModel(std::string_view model, std::string* canonical);

// ---------------------------------------------------------------------------------------
// Selection: which nodes a command acts on.
//
// Syntax (docs/inventory.md, "Selecting nodes"): terms separated by commas (outside
// brackets) form a union; a term is a hostlist of node names ("gpu-r01-n[01-16]"), "all",
// or a selector "@rack:NAME", "@profile:NAME", "@state:STATE", "@partition:NAME",
// "@feature:NAME". A term prefixed with '!' or '^' is removed from the result; a selection of
// only exclusions starts from all nodes. Selector values may be hostlists ("@rack:r[01-04]").
// The result is in inventory order, without duplicates. Unknown node, rack, profile or
// partition names are NotFound/InvalidInput errors naming them.

class Selection {
 public:
  static Result<Selection> Parse(std::string_view expression);
  Result<std::vector<const Node*>> Apply(const Inventory& inventory) const;
  const std::string& expression() const { return expression_; }

  struct Term {
    enum class Kind { kAll, kHosts, kRack, kProfile, kState, kPartition, kFeature };
    Kind kind = Kind::kAll;
    bool exclude = false;
    std::vector<std::string> values;  // expanded names / selector values
    std::string text;                 // as written
  };
  const std::vector<Term>& terms() const { return terms_; }

 private:
  std::string expression_;
  std::vector<Term> terms_;
};

/// Parse + Apply in one call.
Result<std::vector<const Node*>> Select(const Inventory& inventory, std::string_view expression);

}  // namespace racksmith::inventory
