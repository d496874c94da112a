// Canonical spellings of model enums, exactly as they appear in YAML.
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"

namespace meshsim::model {

const char* mtlsModeName(MtlsMode m) {
  switch (m) {
    case MtlsMode::kUnset: return "UNSET";
    case MtlsMode::kDisable: return "DISABLE";
    case MtlsMode::kPermissive: return "PERMISSIVE";
    case MtlsMode::kStrict: return "STRICT";
  }
  return "UNSET";
}

const char* authzActionName(AuthzAction a) {
  switch (a) {
    case AuthzAction::kAllow: return "ALLOW";
    case AuthzAction::kDeny: return "DENY";
    case AuthzAction::kAudit: return "AUDIT";
    case AuthzAction::kCustom: return "CUSTOM";
  }
  return "ALLOW";
}

const char* tlsModeName(TlsMode m) {
  switch (m) {
    case TlsMode::kUnset: return "UNSET";
    case TlsMode::kDisable: return "DISABLE";
    case TlsMode::kSimple: return "SIMPLE";
    case TlsMode::kMutual: return "MUTUAL";
    case TlsMode::kIstioMutual: return "ISTIO_MUTUAL";
  }
  return "UNSET";
}

const char* groupTypeName(GroupType t) {
  switch (t) {
    case GroupType::kTraffic: return "traffic";
    case GroupType::kSecurity: return "security";
    case GroupType::kGateway: return "gateway";
  }
  return "traffic";
}

const char* protocolName(Protocol p) {
  switch (p) {
    case Protocol::kHttp: return "HTTP";
    case Protocol::kHttp2: return "HTTP2";
    case Protocol::kGrpc: return "GRPC";
    case Protocol::kTcp: return "TCP";
  }
  return "HTTP";
}

const char* permissionName(Permission p) {
  switch (p) {
    case Permission::kRead: return "READ";
    case Permission::kWrite: return "WRITE";
    case Permission::kCreate: return "CREATE";
    case Permission::kDelete: return "DELETE";
    case Permission::kSetPolicy: return "SET_POLICY";
    case Permission::kGetPolicy: return "GET_POLICY";
  }
  return "READ";
}

const char* trafficModeName(TrafficMode m) {
  switch (m) {
    case TrafficMode::kUnset: return "UNSET";
    case TrafficMode::kOptional: return "OPTIONAL";
    case TrafficMode::kRequired: return "REQUIRED";
  }
  return "UNSET";
}

const char* authzModeName(AuthzMode m) {
  switch (m) {
    case AuthzMode::kUnset: return "UNSET";
    case AuthzMode::kDisabled: return "DISABLED";
    case AuthzMode::kCluster: return "CLUSTER";
    case AuthzMode::kWorkspace: return "WORKSPACE";
    case AuthzMode::kNamespace: return "NAMESPACE";
    case AuthzMode::kGroup: return "GROUP";
    case AuthzMode::kRules: return "RULES";
    case AuthzMode::kCustom: return "CUSTOM";
  }
  return "UNSET";
}

}  // namespace meshsim::model
