#pragma once
// Per-kind conversion of YAML documents into typed resources, with each kind's own validation
// rules (Istio's from pkg/config/validation, ours from PRODUCT.md). Private to the engine.

#include <optional>

#include "config/yaml_reader.h"
#include "meshsim/model/resource.h"

namespace meshsim::config {

/// Converts one YAML document. Returns nullopt when the document is not a resource at all
/// (errors reported) and the resource otherwise; errors inside a resource are reported to
/// ctx.diags and the caller drops resources whose document produced errors.
std::optional<model::Resource> parseDocument(ReadContext& ctx, const YAML::Node& doc,
                                             int64_t load_index);

// Kind parsers: read `spec` into `out` (metadata already filled in).
void parsePeerAuthentication(MapReader& spec, model::PeerAuthentication& out);
void parseRequestAuthentication(MapReader& spec, model::RequestAuthentication& out);
void parseAuthorizationPolicy(MapReader& spec, model::AuthorizationPolicy& out);
void parseVirtualService(MapReader& spec, model::VirtualService& out);
void parseDestinationRule(MapReader& spec, model::DestinationRule& out);
void parseServiceEntry(MapReader& spec, model::ServiceEntry& out);

void parseOrganization(MapReader& spec, model::Organization& out);
void parseCluster(MapReader& spec, model::Cluster& out);
void parseTenant(MapReader& spec, model::Tenant& out);
void parseWorkspace(MapReader& spec, model::Workspace& out);
void parseGroup(MapReader& spec, model::Group& out);
void parseService(MapReader& spec, model::Service& out);
void parseWorkload(MapReader& spec, model::Workload& out);
void parseUser(MapReader& spec, model::User& out);
void parseTeam(MapReader& spec, model::Team& out);
void parseRole(MapReader& spec, model::Role& out);
void parseAccessBinding(MapReader& spec, model::AccessBinding& out);
void parseHierarchySetting(MapReader& spec, model::HierarchySetting& out);
void parseSecuritySetting(MapReader& spec, model::SecuritySetting& out);
void parseTrafficSetting(MapReader& spec, model::TrafficSetting& out);
void parseServiceRoute(MapReader& spec, model::ServiceRoute& out);
void parseEgressGateway(MapReader& spec, model::EgressGateway& out);
void parseIdentityProvider(MapReader& spec, model::IdentityProvider& out);
void parseScenario(MapReader& spec, model::Scenario& out);

// Shared pieces.
/// `selector: {matchLabels: {...}}` (Istio security kinds).
void readSelector(MapReader& parent, const char* key, model::LabelSelector& out);
/// `{exact|prefix|regex}`; `allow_empty` accepts `{}` (header/query presence).
std::optional<model::StringMatch> readStringMatch(MapReader& m, bool allow_empty);
void readHttpMatch(MapReader& m, model::HttpMatchRequest& out);
void readFault(MapReader& m, model::HttpFaultInjection& out);
/// `fromHeaders: [{name, prefix}]` of a JWT rule (Istio and TSB spell it the same).
void readJwtHeaders(MapReader& rule, std::vector<model::JwtHeader>& out);
/// True when `text` is an IPv4/IPv6 address or CIDR block.
bool isIpOrCidr(const std::string& text);
/// True when `text` is a valid DNS-1123 subdomain-style resource name.
bool isValidName(const std::string& text);

}  // namespace meshsim::config
