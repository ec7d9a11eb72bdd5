// racksmith/base: the one error type used across every module boundary.
//
// Contract:
// - A failure is an `Error`: a code the caller can branch on, a message that says what was
//   expected and what was found, and optionally the input location (file:line:col) it is about.
// - `Result<T>` holds a T or an Error; `Status` is `Result<void>`. Both are [[nodiscard]].
// - No exception crosses a module's public header: modules that wrap throwing libraries
//   (yaml-cpp, std::filesystem) catch and convert at their boundary.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace racksmith {

enum class ErrorCode {
  kInvalidInput,  // the user's input (inventory, flags, a file) is wrong
  kNotFound,      // a named thing does not exist
  kUnreachable,   // a network peer (BMC, node) could not be reached
  kTimeout,       // a bounded wait ran out
  kConflict,      // state disagrees (lock held, host key changed, ETag mismatch)
  kRefused,       // an interlock or policy refused the action
  kUnsupported,   // the peer or input asks for something racksmith does not do
  kIo,            // local file or database I/O failed
  kInternal,      // a bug: an invariant did not hold
};

/// Human name of an error code, e.g. "invalid input".
const char* ErrorCodeName(ErrorCode code);

/// A position in an input file. line and col are 1-based; 0 means unknown.
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;

  bool known() const { return !file.empty(); }
  /// "file:line:col", "file:line" or "file", as much as is known.
  std::string ToString() const;
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
};

class Error {
 public:
  Error(ErrorCode code, std::string message, SourceLoc where = {})
      : code_(code), message_(std::move(message)), where_(std::move(where)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const SourceLoc& where() const { return where_; }

  /// "file:line:col: message" when the location is known, else the message.
  std::string ToString() const;

  /// Returns a copy whose message is "context: message" (the location is kept).
  Error WithContext(const std::string& context) const;

 private:
  ErrorCode code_;
  std::string message_;
  SourceLoc where_;
};

inline Error InvalidInput(std::string msg, SourceLoc where = {}) {
  return Error(ErrorCode::kInvalidInput, std::move(msg), std::move(where));
}
inline Error NotFound(std::string msg) { return Error(ErrorCode::kNotFound, std::move(msg)); }
inline Error IoError(std::string msg) { return Error(ErrorCode::kIo, std::move(msg)); }
inline Error Internal(std::string msg) { return Error(ErrorCode::kInternal, std::move(msg)); }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  // REQUIRES: !ok()
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace racksmith
