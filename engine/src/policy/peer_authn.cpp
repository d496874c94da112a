#include "meshsim/policy/peer_authn.h"

#include <algorithm>

namespace meshsim::policy {

namespace {

using model::MtlsMode;
using model::PeerAuthentication;

std::string keyOf(const PeerAuthentication& pa) { return pa.meta.namespace_ + "/" + pa.meta.name; }

bool hasSelector(const PeerAuthentication& pa) { return !pa.selector.match_labels.empty(); }

std::string modeText(MtlsMode m) { return model::mtlsModeName(m); }

std::string selectorText(const model::LabelSelector& s) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : s.match_labels) {
    if (!first) out += ", ";
    first = false;
    out += k + ": " + v;
  }
  return out + "}";
}

/// Oldest first: creation index, then namespace/name.
void sortOldestFirst(std::vector<const PeerAuthentication*>& v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const PeerAuthentication* a, const PeerAuthentication* b) {
                     if (a->meta.creation_index != b->meta.creation_index) {
                       return a->meta.creation_index < b->meta.creation_index;
                     }
                     if (a->meta.namespace_ != b->meta.namespace_)
                       return a->meta.namespace_ < b->meta.namespace_;
                     return a->meta.name < b->meta.name;
                   });
}

/// Picks the oldest candidate of one level; records the others as ignored.
const PeerAuthentication* pickOldest(std::vector<const PeerAuthentication*> candidates,
                                     const char* level, EffectivePeerAuthn& out) {
  if (candidates.empty()) return nullptr;
  sortOldestFirst(candidates);
  const PeerAuthentication* winner = candidates.front();
  for (size_t i = 1; i < candidates.size(); ++i) {
    const std::string why = std::string("several ") + level +
                            "-level PeerAuthentications apply; the oldest, " + keyOf(*winner) +
                            ", wins";
    out.ignored.push_back({keyOf(*candidates[i]), why});
    out.trace.push_back("ignored " + keyOf(*candidates[i]) + ": " + why);
  }
  return winner;
}

}  // namespace

const char* peerAuthnLevelName(PeerAuthnLevel level) {
  switch (level) {
    case PeerAuthnLevel::kDefault: return "default";
    case PeerAuthnLevel::kMesh: return "mesh";
    case PeerAuthnLevel::kNamespace: return "namespace";
    case PeerAuthnLevel::kWorkload: return "workload";
    case PeerAuthnLevel::kPort: return "port";
  }
  return "default";
}

EffectivePeerAuthn resolvePeerAuthn(std::span<const model::PeerAuthentication* const> policies,
                                    std::string_view root_namespace,
                                    const model::Workload& workload,
                                    std::optional<uint32_t> workload_port,
                                    std::span<const uint32_t> inbound_ports) {
  EffectivePeerAuthn out;
  const std::string& ns = workload.meta.namespace_;
  std::vector<const PeerAuthentication*> mesh, namespace_level, workload_level;
  for (const PeerAuthentication* pa : policies) {
    if (pa == nullptr) continue;
    const bool in_root = pa->meta.namespace_ == root_namespace;
    if (!in_root && pa->meta.namespace_ != ns) continue;
    if (!hasSelector(*pa)) {
      (in_root ? mesh : namespace_level).push_back(pa);
    } else if (in_root) {
      const std::string why =
          "a PeerAuthentication with a selector in the root namespace is ignored";
      out.ignored.push_back({keyOf(*pa), why});
      out.trace.push_back("ignored " + keyOf(*pa) + ": " + why);
    } else if (pa->selector.matches(workload.labels)) {
      workload_level.push_back(pa);
    }
  }

  const PeerAuthentication* mesh_pa = pickOldest(mesh, "mesh", out);
  const PeerAuthentication* ns_pa = pickOldest(namespace_level, "namespace", out);
  const PeerAuthentication* wl_pa = pickOldest(workload_level, "workload", out);

  out.trace.push_back("default: PERMISSIVE");
  auto apply = [&out](const PeerAuthentication* pa, PeerAuthnLevel level, const std::string& what) {
    if (pa == nullptr) return;
    if (pa->mode == MtlsMode::kUnset) {
      out.trace.push_back(what + " " + keyOf(*pa) + ": UNSET, inherits " + modeText(out.mode));
      return;
    }
    out.mode = pa->mode;
    out.level = level;
    out.policy = keyOf(*pa);
    out.trace.push_back(what + " " + keyOf(*pa) + ": " + modeText(pa->mode));
  };
  apply(mesh_pa, PeerAuthnLevel::kMesh, "mesh");
  apply(ns_pa, PeerAuthnLevel::kNamespace, "namespace");
  if (wl_pa != nullptr) {
    apply(wl_pa, PeerAuthnLevel::kWorkload,
          "workload (selector " + selectorText(wl_pa->selector) + ")");
    if (workload_port) {
      const uint32_t port = *workload_port;
      const auto it = wl_pa->port_level.find(port);
      if (it != wl_pa->port_level.end()) {
        const bool has_chain =
            std::find(inbound_ports.begin(), inbound_ports.end(), port) != inbound_ports.end();
        const std::string where = "port " + std::to_string(port) + " (" + keyOf(*wl_pa) + ")";
        if (!has_chain) {
          out.trace.push_back(where +
                              ": portLevelMtls has no effect, the port is not a target port of "
                              "a Service selecting the workload");
        } else if (it->second == MtlsMode::kUnset) {
          out.trace.push_back(where + ": UNSET, inherits " + modeText(out.mode));
        } else {
          out.mode = it->second;
          out.level = PeerAuthnLevel::kPort;
          out.policy = keyOf(*wl_pa);
          out.trace.push_back(where + ": " + modeText(it->second));
        }
      }
    }
  }
  std::string result = "effective: " + modeText(out.mode) + " (" + peerAuthnLevelName(out.level);
  if (!out.policy.empty()) result += " " + out.policy;
  out.trace.push_back(result + ")");
  return out;
}

std::vector<uint32_t> workloadInboundPorts(const config::Snapshot& snapshot,
                                           const model::Workload& workload) {
  std::vector<uint32_t> ports;
  if (workload.service.empty()) return ports;
  std::string ns = workload.meta.namespace_;
  std::string name = workload.service;
  const size_t slash = name.find('/');
  if (slash != std::string::npos) {
    ns = name.substr(0, slash);
    name = name.substr(slash + 1);
  }
  const model::Service* svc = snapshot.findService(ns, name);
  if (svc == nullptr) return ports;
  for (const auto& p : svc->ports) ports.push_back(p.target_port != 0 ? p.target_port : p.port);
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

EffectivePeerAuthn effectivePeerAuthn(const config::Snapshot& snapshot,
                                      const model::Workload& workload,
                                      std::optional<uint32_t> workload_port) {
  const std::vector<uint32_t> ports = workloadInboundPorts(snapshot, workload);
  return resolvePeerAuthn(snapshot.peer_authentications, snapshot.rootNamespace(), workload,
                          workload_port, ports);
}

// ---------------------------------------------------------------- connection outcome

const char* clientTransportName(ClientTransport transport) {
  switch (transport) {
    case ClientTransport::kMeshMtls: return "mTLS";
    case ClientTransport::kPlaintext: return "plaintext";
    case ClientTransport::kUntrustedCertificate: return "untrusted certificate";
  }
  return "plaintext";
}

const char* serverAcceptanceName(ServerAcceptance acceptance) {
  switch (acceptance) {
    case ServerAcceptance::kAcceptedWithIdentity: return "accepted with identity";
    case ServerAcceptance::kAcceptedWithoutIdentity: return "accepted without identity";
    case ServerAcceptance::kReset: return "reset";
    case ServerAcceptance::kTlsReadAsHttp: return "TLS read as HTTP";
  }
  return "reset";
}

ServerConnectionOutcome serverAcceptance(model::MtlsMode mode, ClientTransport transport,
                                         const std::optional<PeerIdentity>& client_identity) {
  ServerConnectionOutcome out;
  if (mode == MtlsMode::kUnset) mode = MtlsMode::kPermissive;
  out.mode = mode;
  const std::string mode_name = modeText(mode);
  auto refuse = [&out](ServerAcceptance acceptance, std::string server_detail, std::string reason,
                       std::string sidecar_body, std::string sidecar_flags) {
    out.acceptance = acceptance;
    out.server_detail = std::move(server_detail);
    out.decision.status = kStatusReset;
    out.decision.stage = Stage::kPeerAuthn;
    out.decision.reason = std::move(reason);
    out.decision.trace.push_back("peer authentication: " + out.decision.reason);
    out.sidecar_client_status = 503;
    out.sidecar_client_body = std::move(sidecar_body);
    out.sidecar_client_flags = std::move(sidecar_flags);
  };
  auto accept = [&out](ServerAcceptance acceptance, const std::string& line) {
    out.acceptance = acceptance;
    out.decision.status = 200;
    out.decision.stage = Stage::kNone;
    out.decision.trace.push_back("peer authentication: " + line);
  };

  if (mode == MtlsMode::kDisable) {
    if (transport == ClientTransport::kPlaintext) {
      accept(ServerAcceptance::kAcceptedWithoutIdentity,
             "DISABLE accepts plaintext; the request carries no peer identity");
      return out;
    }
    refuse(ServerAcceptance::kTlsReadAsHttp, "DPE",
           "DISABLE: the server sidecar does not terminate TLS, reads the TLS ClientHello as "
           "HTTP and answers 400 (DPE); the client's TLS handshake fails",
           "upstream connect error or disconnect/reset before headers. reset reason: connection "
           "failure, transport failure reason: TLS error: 268435703:SSL "
           "routines:OPENSSL_internal:WRONG_VERSION_NUMBER",
           "UF");
    out.decision.response_flags = "DPE";
    return out;
  }

  switch (transport) {
    case ClientTransport::kMeshMtls:
      out.mtls = true;
      out.peer = client_identity;
      out.decision.mtls = true;
      accept(ServerAcceptance::kAcceptedWithIdentity,
             mode_name + " accepts mutual TLS; peer principal " +
                 (client_identity ? client_identity->principal : std::string("(unknown)")));
      return out;
    case ClientTransport::kPlaintext:
      if (mode == MtlsMode::kPermissive) {
        accept(ServerAcceptance::kAcceptedWithoutIdentity,
               "PERMISSIVE accepts plaintext; the request carries no peer identity");
        return out;
      }
      refuse(ServerAcceptance::kReset, "NR filter_chain_not_found",
             "STRICT mTLS: the server sidecar has no filter chain for a plaintext connection and "
             "closes it (NR filter_chain_not_found)",
             "upstream connect error or disconnect/reset before headers. reset reason: "
             "connection termination",
             "UC");
      out.decision.response_flags = "NR";
      return out;
    case ClientTransport::kUntrustedCertificate:
      refuse(ServerAcceptance::kReset, "TLS error: CERTIFICATE_VERIFY_FAILED",
             mode_name +
                 ": the client certificate is not chained to the mesh root; the TLS handshake "
                 "fails and the connection is closed before any HTTP",
             "upstream connect error or disconnect/reset before headers. reset reason: "
             "connection failure, transport failure reason: TLS error: "
             "CERTIFICATE_VERIFY_FAILED",
             "UF");
      return out;
  }
  return out;
}

}  // namespace meshsim::policy
