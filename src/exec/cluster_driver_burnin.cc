// ClusterDriver, the burn-in step as a quick health check over SSH: the GPUs nvidia-smi sees
// against the inventory, and `dcgmi diag -r 1 -j` with every test passing. The full
// burn-in (load, thresholds) replaces RunBurnin later; the parsers stay.
#include <map>
#include <set>

#include "exec/cluster_driver_internal.h"

namespace racksmith::exec {
namespace {

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return std::string(s);
}

std::string CanonicalModel(const std::string& model) {
  std::string canonical;
  return inventory::CanonicalGpuModel(model, &canonical) ? canonical : model;
}

std::string IdsText(const nlohmann::json& ids) {
  if (ids.is_string()) return ids.get<std::string>();
  if (ids.is_number_integer()) return std::to_string(ids.get<int64_t>());
  if (ids.is_array()) {
    std::string out;
    for (const auto& i : ids) out += (out.empty() ? "" : ",") + IdsText(i);
    return out;
  }
  return {};
}

}  // namespace

Result<std::vector<GpuRow>> ParseGpuCsv(std::string_view text) {
  std::vector<GpuRow> rows;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (Trimmed(line).empty()) continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      size_t comma = line.find(',', start);
      fields.push_back(Trimmed(line.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    GpuRow row;
    if (fields.size() < 3 || fields[0].empty() ||
        fields[0].find_first_not_of("0123456789") != std::string::npos) {
      return InvalidInput("nvidia-smi line " + std::to_string(line_no) +
                          ": expected 'index, name, pci.bus_id', found '" + Trimmed(line) + "'");
    }
    row.index = std::stoi(fields[0]);
    row.name = fields[1];
    row.bus_id = fields[2];
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> GpuProblems(const inventory::GpuSpec& want,
                                     const std::vector<GpuRow>& found) {
  std::vector<std::string> problems;
  const std::string model = CanonicalModel(want.model);
  const std::string expected =
      "expected " + std::to_string(want.count) + (model.empty() ? "" : " x " + model);
  std::set<int> present;
  for (const GpuRow& g : found) present.insert(g.index);
  for (int i = 0; i < want.count; ++i) {
    if (!present.count(i))
      problems.push_back("GPU " + std::to_string(i) + ": missing (" + expected + ")");
  }
  for (const GpuRow& g : found) {
    std::string id = "GPU " + std::to_string(g.index) + ": ";
    if (g.index >= want.count) {
      problems.push_back(id + "unexpected " + g.name + " at " + g.bus_id + " (" + expected + ")");
    } else if (!model.empty() && CanonicalModel(g.name) != model) {
      problems.push_back(id + g.name + ", expected " + model);
    }
  }
  return problems;
}

Result<std::vector<DiagResult>> ParseDcgmDiag(std::string_view text) {
  // Real dcgmi may print a line before the JSON (the 3.1 capture starts with a warning).
  size_t brace = text.find('{');
  if (brace == std::string_view::npos) {
    return InvalidInput("no JSON in the dcgmi output: " + FirstLines(text, 2));
  }
  nlohmann::json j = nlohmann::json::parse(text.substr(brace), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidInput("the dcgmi output is not JSON");
  auto root = j.find("DCGM GPU Diagnostic");
  if (root == j.end() || !root->is_object()) {
    return InvalidInput("the dcgmi JSON has no \"DCGM GPU Diagnostic\" object");
  }
  auto cats = root->find("test_categories");
  if (cats == root->end() || !cats->is_array()) {
    return InvalidInput("the dcgmi JSON has no \"test_categories\" list");
  }
  std::vector<DiagResult> out;
  for (const auto& cat : *cats) {
    if (!cat.is_object() || !cat.contains("tests") || !cat["tests"].is_array()) continue;
    std::string category = cat.value("category", "");
    for (const auto& test : cat["tests"]) {
      if (!test.is_object()) continue;  // DCGM 3 puts nulls between the tests
      std::string name = test.value("name", "");
      if (!test.contains("results") || !test["results"].is_array()) continue;
      for (const auto& r : test["results"]) {
        if (!r.is_object()) continue;
        DiagResult d;
        d.category = category;
        d.test = name;
        d.status =
            r.contains("status") && r["status"].is_string() ? r["status"].get<std::string>() : "";
        if (r.contains("gpu_ids")) d.gpus = IdsText(r["gpu_ids"]);
        if (r.contains("warnings") && r["warnings"].is_array()) {
          for (const auto& w : r["warnings"]) {
            if (w.is_string()) d.warnings.push_back(w.get<std::string>());
            if (w.is_object() && w.contains("warning") && w["warning"].is_string()) {
              d.warnings.push_back(w["warning"].get<std::string>());
            }
          }
        }
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}

std::vector<std::string> DiagFailures(const std::vector<DiagResult>& results) {
  std::vector<std::string> out;
  for (const DiagResult& r : results) {
    if (ToLower(r.status) != "fail") continue;
    std::string line = "dcgmi diag: " + r.test + " failed";
    if (!r.gpus.empty()) {
      line += (r.gpus.find(',') == std::string::npos ? " on GPU " : " on GPUs ") + r.gpus;
    }
    std::string why;
    for (const auto& w : r.warnings) why += (why.empty() ? "" : "; ") + w;
    out.push_back(why.empty() ? line : line + ": " + why);
  }
  return out;
}

StepOutcome RunBurnin(StepRun& run) {
  auto profile = run.step.params.find("profile");
  nlohmann::json summary = {{"check", "health"},
                            {"profile", profile == run.step.params.end() ? "" : profile->second}};
  std::vector<std::string> problems;
  const inventory::GpuSpec& want = run.node.hardware.gpus;
  if (want.count == 0) {
    run.Say("the inventory lists no GPUs: GPU checks skipped");
  } else {
    Result<transport::ExecResult> smi =
        run.Exec("nvidia-smi --query-gpu=index,name,pci.bus_id --format=csv,noheader", 120'000);
    if (!smi.ok()) {
      if (auto why = run.Stopped()) return run.Fail(*why);
      return run.FromError(smi.error(), "nvidia-smi", IsTransientSshError(smi.error()));
    }
    std::vector<GpuRow> rows;
    if (smi->exit_status != 0 &&
        smi->stdout_text.find("No devices were found") == std::string::npos) {
      problems.push_back("nvidia-smi exited " + std::to_string(smi->exit_status) + ": " +
                         FirstLines(smi->stderr_text + smi->stdout_text));
    } else if (smi->exit_status == 0) {
      Result<std::vector<GpuRow>> parsed = ParseGpuCsv(smi->stdout_text);
      if (parsed.ok()) {
        rows = *parsed;
      } else {
        problems.push_back(parsed.error().message());
      }
    }
    for (std::string& p : GpuProblems(want, rows)) problems.push_back(std::move(p));
    nlohmann::json found = nlohmann::json::array();
    for (const GpuRow& g : rows) {
      found.push_back({{"index", g.index}, {"name", g.name}, {"bus_id", g.bus_id}});
    }
    summary["gpus"] = {{"expected", want.count}, {"model", want.model}, {"found", found}};
    run.Say("nvidia-smi: " + std::to_string(rows.size()) + " of " + std::to_string(want.count) +
            " GPUs");

    const int level = run.d.options.dcgm_diag_level;
    const std::string diag = "dcgmi diag -r " + std::to_string(level) + " -j";
    Result<transport::ExecResult> dcgm = run.Exec(diag);
    if (!dcgm.ok()) {
      if (auto why = run.Stopped()) return run.Fail(*why);
      return run.FromError(dcgm.error(), diag, IsTransientSshError(dcgm.error()));
    }
    Result<std::vector<DiagResult>> results = ParseDcgmDiag(dcgm->stdout_text);
    if (!results.ok()) {
      problems.push_back(diag + (dcgm->exit_status == 127
                                     ? std::string(": dcgmi is not installed")
                                     : " exited " + std::to_string(dcgm->exit_status) + ": " +
                                           results.error().message() + " " +
                                           FirstLines(dcgm->stderr_text, 2)));
    } else {
      nlohmann::json tests = nlohmann::json::array();
      for (const DiagResult& r : *results) {
        tests.push_back({{"category", r.category},
                         {"test", r.test},
                         {"status", r.status},
                         {"gpus", r.gpus},
                         {"warnings", r.warnings}});
      }
      std::vector<std::string> failures = DiagFailures(*results);
      summary["dcgmi"] = {{"level", level}, {"tests", tests}};
      run.Say(diag + ": " + std::to_string(results->size()) + " results, " +
              std::to_string(failures.size()) + " failed");
      for (std::string& f : failures) problems.push_back(std::move(f));
    }
  }
  const bool passed = problems.empty();
  summary["passed"] = passed;
  summary["problems"] = problems;
  if (run.ctx.store != nullptr) {
    state::BurninResult result;
    result.node = run.node.name;
    result.run_id = run.ctx.run_id;
    result.passed = passed;
    result.summary_json = summary.dump();
    if (Status s = run.ctx.store->RecordBurnin(result); !s.ok()) {
      return run.Fail("recording the burn-in result: " + s.error().message());
    }
  }
  if (!passed) {
    std::string error;
    for (const auto& p : problems) error += (error.empty() ? "" : "; ") + p;
    return run.Fail(error);
  }
  return run.Ok("health check passed");
}

GuardResult GuardBurnin(StepRun& run) {
  if (run.ctx.store == nullptr) return {GuardVerdict::kUnknown, "no state store"};
  Result<std::vector<state::BurninResult>> results = run.ctx.store->BurninResults(run.node.name);
  if (!results.ok()) return {GuardVerdict::kUnknown, results.error().message()};
  std::optional<state::StepRecord> last = LastStepLikeThis(run);
  const int64_t since = last ? last->started_at : 0;
  if (last) {
    // A pass of the burn-in the inventory asked for then is no pass of the one it asks
    // for now (another profile, other thresholds: another hash).
    nlohmann::json intent = nlohmann::json::parse(last->intent_json, nullptr, false);
    const std::string was = intent.is_object() ? intent.value("hash", "") : "";
    if (!run.step.hash.empty() && was != run.step.hash) {
      return {GuardVerdict::kNotDone,
              "the burn-in in flight was for other settings (hash " +
                  (was.empty() ? std::string("none") : was.substr(0, 12)) + ", now " +
                  run.step.hash.substr(0, 12) + "): it runs again"};
    }
  }
  if (results->empty() || since == 0 || results->back().at < since) {
    return {GuardVerdict::kNotDone, "no burn-in result recorded since the step started"};
  }
  if (!results->back().passed) {
    return {GuardVerdict::kNotDone, "the burn-in result recorded since the step started failed"};
  }
  return {GuardVerdict::kDone, "a burn-in result recorded since the step started passed"};
}

}  // namespace racksmith::exec
