#pragma once
// The request outcomes istio-semantics.md states (sections 1-8), as data: one small mesh and a
// table of requests with their expected status, stage, body, mTLS and response flags. The same
// table runs against the prediction (`meshsim check`) and against the real sidecars.
#include <ostream>
#include <string>
#include <vector>

#include "meshsim/analysis/check.h"
#include "meshsim/policy/decision.h"

namespace meshsim::testing {

/// web (client), api (HTTP, Service port 8000 -> container 80), db (TCP 5432), legacy (no
/// sidecar), an identity provider, and api subsets v1/v2.
extern const char* const kIstioMesh;

/// One request and what Istio does with it.
struct IstioCase {
  std::string name;
  std::vector<std::string> extra;  ///< YAML documents added to kIstioMesh
  std::string from;                ///< `--from` syntax
  std::string to;                  ///< "ns/service"
  std::string path = "/";
  std::string method = "GET";
  analysis::CheckJwt jwt;
  int status;           ///< expected status (policy::kStatusReset = 0)
  policy::Stage stage;  ///< expected deciding stage
  std::string body;     ///< expected body ("*" = don't care)
  bool mtls;            ///< expected hop security
  std::string flags = "*";  ///< expected response flags ("*" = don't care)
};

inline std::ostream& operator<<(std::ostream& os, const IstioCase& c) { return os << c.name; }

/// The table.
const std::vector<IstioCase>& istioCases();

/// kIstioMesh plus the case's extra documents, as one YAML text.
std::string istioCaseYaml(const IstioCase& c);

}  // namespace meshsim::testing
