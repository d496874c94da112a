#pragma once
/// Whole-configuration validation: references between resources, duplicates, and the rules
/// that need more than one document (per-document rules run while loading).

#include <vector>

#include "meshsim/common/source.h"
#include "meshsim/model/resource.h"

namespace meshsim::config {

/// Checks a set of resources as one configuration and appends findings to `out`.
/// Deterministic; never throws.
void validateReferences(const std::vector<model::Resource>& resources, Diagnostics& out);

}  // namespace meshsim::config
