#include "base/status.h"

namespace racksmith {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return "invalid input";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kUnreachable: return "unreachable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kRefused: return "refused";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kInternal: return "internal error";
  }
  return "error";
}

std::string SourceLoc::ToString() const {
  if (file.empty()) return "";
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (col > 0) out += ":" + std::to_string(col);
  }
  return out;
}

std::string Error::ToString() const {
  if (!where_.known()) return message_;
  return where_.ToString() + ": " + message_;
}

Error Error::WithContext(const std::string& context) const {
  return Error(code_, context + ": " + message_, where_);
}

}  // namespace racksmith
