#pragma once
/// Reading configuration: files, directories and stdin, several YAML documents per file, into
/// typed resources that remember where they were written.

#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/source.h"
#include "meshsim/common/status.h"
#include "meshsim/model/resource.h"

namespace meshsim::config {

/// What a load produced: every resource that parsed, and every problem found (all of them,
/// not just the first). Resources with errors are left out of `resources`.
struct LoadResult {
  std::vector<model::Resource> resources;
  Diagnostics diagnostics;
  std::vector<std::string> files;  ///< files read, in order
  /// Paths that did not exist or could not be read (also reported as diagnostics). Commands
  /// treat these as usage errors rather than findings.
  std::vector<std::string> unreadable;
};

/// Limits that keep hostile input from exhausting memory or stack.
struct LoadLimits {
  size_t max_file_bytes = 64u << 20;        ///< larger files are refused with an error
  size_t max_nodes_per_document = 2000000;  ///< counts alias expansions ("billion laughs")
  size_t max_depth = 256;                   ///< nesting depth of mappings/sequences
};

/// Parses YAML text. `file` is the name used in diagnostics. Never throws.
LoadResult loadString(std::string_view text, const std::string& file, const LoadLimits& limits = {});

/// Loads each path: a file, a directory (recursively, *.yaml and *.yml, sorted by path), or "-"
/// for standard input. Unreadable paths become diagnostics. Never throws.
LoadResult loadPaths(const std::vector<std::string>& paths, const LoadLimits& limits = {});

/// Converts one YAML document to pretty-printed JSON (mappings → objects, sequences → arrays,
/// scalars → strings, except that plain true/false/null/numbers keep their JSON type).
Result<std::string> yamlToJson(std::string_view yaml);

}  // namespace meshsim::config
