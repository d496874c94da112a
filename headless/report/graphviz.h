#pragma once
// Graphviz layout and rendering for reports: DOT text in, SVG text out. Graphviz stays out of the
// engine (ARCHITECTURE.md R2); this is the only place that calls it from the headless CLI.
#include <string>

#include "meshsim/common/status.h"

namespace meshsim::report {

/// Lays out `dot` with the `dot` engine and renders it as SVG (with plain '-' outside XML
/// comments, where Graphviz writes "&#45;"). InvalidArgument (with Graphviz's
/// own message) when the text is not valid DOT or cannot be laid out; FailedPrecondition when
/// the Graphviz installation has no dot layout or svg renderer plugin (Debian's libgvc6 registers
/// them with `dot -c` at install time). Thread-safe: Graphviz is not, so calls are serialized on
/// one process-wide context. Never throws.
Result<std::string> renderSvg(const std::string& dot);

}  // namespace meshsim::report
