// A temporary directory removed with everything in it when the object goes away.
#pragma once

#include <string>

namespace racksmith::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// path()/relative
  std::string Join(const std::string& relative) const { return path_ + "/" + relative; }
  /// Writes `content` to path()/relative (creating parent folders) and returns its path.
  std::string Write(const std::string& relative, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace racksmith::testing
