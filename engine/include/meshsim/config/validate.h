#pragma once
/// Whole-configuration validation: references between resources, duplicates, and the rules
/// that need more than one document (per-document rules run while loading).

#include <vector>

#include "meshsim/common/source.h"
#include "meshsim/config/loader.h"
#include "meshsim/model/resource.h"

namespace meshsim::config {

/// Checks a set of resources as one configuration and appends findings to `out`.
/// Deterministic; never throws.
void validateReferences(const std::vector<model::Resource>& resources, Diagnostics& out);

/// What every command does with `-f` inputs: loadPaths(), then validateReferences() (unless a
/// path was unreadable), with diagnostics sorted by file, line and column.
LoadResult loadConfiguration(const std::vector<std::string>& paths, const LoadLimits& limits = {});

}  // namespace meshsim::config
