// Scenario files into typed steps: the loader checks the document's shape (kind, metadata,
// which action a step holds); this reads each step's body from the file itself, so that every
// error names the exact file:line:col and field path.
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "meshsim/analysis/check.h"
#include "meshsim/config/loader.h"
#include "meshsim/scenario/scenario.h"

namespace meshsim::scenario {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxRequests = 1000000;
constexpr uint32_t kMaxConcurrency = 256;

class Parser {
 public:
  Parser(std::string file, Diagnostics& out) : file_(std::move(file)), out_(out) {
    base_ = fs::path(file_).parent_path();
  }

  SourceLocation loc(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0) return {file_, 0, 0};
    return {file_, static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
  }
  void err(const YAML::Node& n, const std::string& field, const std::string& msg) {
    out_.error(loc(n), field, msg);
  }

  // Every key of `map` must be in `allowed`.
  bool keys(const YAML::Node& map, const std::string& field, const std::set<std::string>& allowed) {
    if (!map.IsMap()) {
      err(map, field, "expected a mapping");
      return false;
    }
    bool ok = true;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
      if (allowed.count(k) == 0) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        err(it->first, field + (field.empty() ? "" : ".") + k, "unknown field (expected one of " + list + ")");
        ok = false;
      }
    }
    return ok;
  }

  bool str(const YAML::Node& n, const std::string& field, std::string& out) {
    if (!n.IsScalar()) {
      err(n, field, "expected a string");
      return false;
    }
    out = n.Scalar();
    return true;
  }

  bool integer(const YAML::Node& n, const std::string& field, int64_t lo, int64_t hi, int64_t& out) {
    std::string s;
    if (!n.IsScalar() || (s = n.Scalar()).empty()) {
      err(n, field, "expected an integer");
      return false;
    }
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == s.size() || s.size() > 19) {
      err(n, field, "expected an integer, got \"" + s + "\"");
      return false;
    }
    for (size_t j = i; j < s.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(s[j]))) {
        err(n, field, "expected an integer, got \"" + s + "\"");
        return false;
      }
    }
    int64_t v = std::stoll(s);
    if (v < lo || v > hi) {
      err(n, field, std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return false;
    }
    out = v;
    return true;
  }

  bool number(const YAML::Node& n, const std::string& field, double& out) {
    if (!n.IsScalar()) {
      err(n, field, "expected a number");
      return false;
    }
    const std::string& s = n.Scalar();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !(v >= 0) || v > 1e9) {
      err(n, field, "expected a non-negative number, got \"" + s + "\"");
      return false;
    }
    out = v;
    return true;
  }

  bool boolean(const YAML::Node& n, const std::string& field, bool& out) {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      out = n.Scalar() == "true";
      return true;
    }
    err(n, field, "expected true or false");
    return false;
  }

  bool strList(const YAML::Node& n, const std::string& field, std::vector<std::string>& out) {
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return true;
    }
    if (!n.IsSequence()) {
      err(n, field, "expected a list of strings");
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string s;
      if (str(n[i], field + "[" + std::to_string(i) + "]", s)) {
        out.push_back(s);
      } else {
        ok = false;
      }
    }
    return ok;
  }

  bool nsName(const YAML::Node& n, const std::string& field, std::string& out) {
    if (!str(n, field, out)) return false;
    auto slash = out.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == out.size() ||
        out.find('/', slash + 1) != std::string::npos) {
      err(n, field, "expected NS/NAME, got \"" + out + "\"");
      return false;
    }
    return true;
  }

  // YAML → JSON for JWT claims: plain integers and booleans keep their type.
  nlohmann::json toJson(const YAML::Node& n) {
    if (n.IsMap()) {
      nlohmann::json o = nlohmann::json::object();
      for (auto it = n.begin(); it != n.end(); ++it) o[it->first.Scalar()] = toJson(it->second);
      return o;
    }
    if (n.IsSequence()) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& x : n) a.push_back(toJson(x));
      return a;
    }
    if (!n.IsScalar()) return nullptr;
    const std::string& s = n.Scalar();
    if (n.Tag() != "!") {  // quoted scalars stay strings
      if (s == "true" || s == "false") return s == "true";
      bool digits = !s.empty() && s.size() < 19;
      for (size_t i = (s[0] == '-' ? 1 : 0); i < s.size() && digits; ++i) {
        digits = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
      }
      if (digits && s != "-") return std::stoll(s);
    }
    return s;
  }

  bool jwt(const YAML::Node& n, const std::string& field, JwtSpec& out) {
    if (!keys(n, field, {"claims", "user", "invalid", "token", "stolen"})) return false;
    if (n.size() != 1) {
      err(n, field, "give exactly one of claims, user, invalid, token or stolen");
      return false;
    }
    auto it = n.begin();
    const std::string k = it->first.Scalar();
    const YAML::Node v = it->second;
    const std::string f = field + "." + k;
    if (k == "claims") {
      if (!v.IsMap()) {
        err(v, f, "expected a mapping of claims, e.g. {sub: alice, scope: read}");
        return false;
      }
      out.kind = JwtSpec::Kind::kClaims;
      out.claims_json = toJson(v).dump();
      return true;
    }
    if (k == "invalid") {
      if (!str(v, f, out.invalid)) return false;
      static const std::set<std::string> kInvalid = {"signature", "expired", "malformed", "issuer", "audience"};
      if (kInvalid.count(out.invalid) == 0) {
        err(v, f, "expected signature, expired, malformed, issuer or audience, got \"" + out.invalid + "\"");
        return false;
      }
      out.kind = JwtSpec::Kind::kInvalid;
      return true;
    }
    if (k == "user") {
      out.kind = JwtSpec::Kind::kUser;
      return str(v, f, out.user);
    }
    if (k == "token") {
      out.kind = JwtSpec::Kind::kToken;
      return str(v, f, out.token);
    }
    out.kind = JwtSpec::Kind::kStolen;
    if (!str(v, f, out.stolen)) return false;
    if (known_attacks_.count(out.stolen) == 0) {
      err(v, f, "no earlier attack step named \"" + out.stolen + "\" stole a token");
      return false;
    }
    return true;
  }

  // The request fields shared by traffic, request assertions and attack probes. `extra` are the
  // other keys the caller allows; `with_from` whether `from` may be given.
  bool request(const YAML::Node& n, const std::string& field, RequestSpec& out, std::set<std::string> extra,
               bool with_from) {
    std::set<std::string> allowed = {"to", "port", "method", "path", "headers", "jwt"};
    if (with_from) allowed.insert("from");
    allowed.insert(extra.begin(), extra.end());
    if (!keys(n, field, allowed)) return false;
    out.where = loc(n);
    bool ok = true;
    if (!n["to"]) {
      err(n, field + ".to", "required: the Service to call, NS/NAME");
      ok = false;
    } else {
      ok = nsName(n["to"], field + ".to", out.to) && ok;
    }
    if (with_from && n["from"]) {
      if (str(n["from"], field + ".from", out.from)) {
        auto parsed = analysis::parseCheckSource(out.from);
        if (!parsed.ok()) {
          err(n["from"], field + ".from", parsed.status().message());
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (n["port"]) {
      int64_t p = 0;
      if (integer(n["port"], field + ".port", 1, 65535, p)) {
        out.port = static_cast<uint32_t>(p);
      } else {
        ok = false;
      }
    }
    if (n["method"]) {
      ok = str(n["method"], field + ".method", out.method) && ok;
      if (out.method.empty()) {
        err(n["method"], field + ".method", "must not be empty");
        ok = false;
      }
    }
    if (n["path"]) {
      ok = str(n["path"], field + ".path", out.path) && ok;
      if (out.path.empty() || out.path[0] != '/') {
        err(n["path"], field + ".path", "must start with /");
        ok = false;
      }
    }
    if (n["headers"]) {
      const YAML::Node h = n["headers"];
      if (!h.IsMap()) {
        err(h, field + ".headers", "expected a mapping of header names to values");
        ok = false;
      } else {
        for (auto it = h.begin(); it != h.end(); ++it) {
          std::string name, value;
          if (str(it->first, field + ".headers", name) && str(it->second, field + ".headers." + name, value)) {
            out.headers.emplace_back(name, value);
          } else {
            ok = false;
          }
        }
      }
    }
    if (n["jwt"]) ok = jwt(n["jwt"], field + ".jwt", out.jwt) && ok;
    return ok;
  }

  std::vector<model::Resource> loadFiles(const YAML::Node& n, const std::string& field,
                                         std::vector<std::string>& names) {
    std::vector<model::Resource> out;
    std::vector<std::string> files;
    if (!strList(n, field, files)) return out;
    for (size_t i = 0; i < files.size(); ++i) {
      names.push_back(files[i]);
      fs::path p = base_ / files[i];
      std::error_code ec;
      if (!fs::exists(p, ec)) {
        err(n.IsSequence() ? n[i] : n, field, "\"" + files[i] + "\" does not exist (relative to " +
                                                  (base_.empty() ? std::string(".") : base_.string()) + ")");
        continue;
      }
      auto loaded = config::loadPaths({p.string()});
      for (const auto& d : loaded.diagnostics.items()) out_.add(d);
      for (auto& r : loaded.resources) out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<model::Resource> inlineResources(const YAML::Node& n, const std::string& field) {
    std::vector<model::Resource> out;
    if (!n.IsSequence()) {
      err(n, field, "expected a list of resources");
      return out;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string f = field + "[" + std::to_string(i) + "]";
      YAML::Emitter e;
      e << n[i];
      auto loaded = config::loadString(e.c_str(), file_);
      for (auto d : loaded.diagnostics.items()) {
        // Positions inside the re-emitted text mean nothing to the reader: point at the resource.
        d.where = loc(n[i]);
        d.field = f + (d.field.empty() ? "" : "." + d.field);
        out_.add(std::move(d));
      }
      for (auto& r : loaded.resources) out.push_back(std::move(r));
    }
    return out;
  }

  void change(const YAML::Node& body, const std::string& field, Step& step) {
    const bool del = step.kind == StepKind::kDelete;
    if (body.IsScalar() || body.IsSequence()) {
      step.resources = loadFiles(body, field, step.files);
      return;
    }
    if (!keys(body, field, {"files", "resources"})) return;
    if (!body["files"] && !body["resources"]) {
      err(body, field, "give files and/or resources");
      return;
    }
    if (body["files"]) step.resources = loadFiles(body["files"], field + ".files", step.files);
    if (!body["resources"]) return;
    const YAML::Node rs = body["resources"];
    if (!del) {
      for (auto& r : inlineResources(rs, field + ".resources")) step.resources.push_back(std::move(r));
      return;
    }
    if (!rs.IsSequence()) {
      err(rs, field + ".resources", "expected a list of {kind, name, namespace|tenant|workspace|group}");
      return;
    }
    for (size_t i = 0; i < rs.size(); ++i) {
      const YAML::Node r = rs[i];
      const std::string f = field + ".resources[" + std::to_string(i) + "]";
      if (!keys(r, f, {"kind", "name", "namespace", "tenant", "workspace", "group"})) continue;
      std::string kind, name, ns, tenant, workspace, group;
      if (!r["kind"] || !r["name"]) {
        err(r, f, "kind and name are required");
        continue;
      }
      if (!str(r["kind"], f + ".kind", kind) || !str(r["name"], f + ".name", name)) continue;
      if (r["namespace"]) str(r["namespace"], f + ".namespace", ns);
      if (r["tenant"]) str(r["tenant"], f + ".tenant", tenant);
      if (r["workspace"]) str(r["workspace"], f + ".workspace", workspace);
      if (r["group"]) str(r["group"], f + ".group", group);
      const model::KindInfo* info = model::findKind(kind);
      if (info == nullptr) {
        err(r["kind"], f + ".kind", "unknown kind \"" + kind + "\"");
        continue;
      }
      using S = model::KindInfo::Scope;
      std::string scope;
      switch (info->scope) {
        case S::kNamespaced: scope = ns.empty() ? "default" : ns; break;
        case S::kCluster: break;
        case S::kTenant: scope = tenant; break;
        case S::kWorkspace: scope = tenant + "/" + workspace; break;
        case S::kGroup: scope = tenant + "/" + workspace + "/" + group; break;
      }
      step.delete_keys.push_back({std::string(info->kind), scope, name});
    }
  }

  void traffic(const YAML::Node& body, Step& step) {
    if (!request(body, p_ + "traffic", step.traffic, {"requests", "duration", "concurrency"}, true)) return;
    int64_t v = 0;
    if (body["requests"] && integer(body["requests"], p_ + "traffic.requests", 1, kMaxRequests, v)) {
      step.requests = static_cast<uint64_t>(v);
    }
    if (body["duration"]) {
      std::string text;
      if (str(body["duration"], p_ + "traffic.duration", text)) {
        auto ms = parseStepDuration(text);
        if (!ms.ok() || *ms <= 0 || *ms > 600000) {
          err(body["duration"], p_ + "traffic.duration", "expected a duration up to 10m, e.g. 2s, got \"" + text + "\"");
        } else {
          step.duration_ms = *ms;
        }
      }
    }
    if (body["requests"] && body["duration"]) err(body, p_ + "traffic", "give requests or duration, not both");
    if (!body["requests"] && !body["duration"]) step.requests = 100;
    if (body["concurrency"] && integer(body["concurrency"], p_ + "traffic.concurrency", 1, kMaxConcurrency, v)) {
      step.concurrency = static_cast<uint32_t>(v);
    }
  }

  void attack(const YAML::Node& body, Step& step) {
    if (!keys(body, p_ + "attack", {"compromise", "outsider", "forged", "stealToken", "from", "probes"})) return;
    AttackSpec& a = step.attack;
    int kinds = 0;
    if (body["compromise"]) {
      ++kinds;
      a.kind = AttackSpec::Kind::kCompromise;
      nsName(body["compromise"], p_ + "attack.compromise", a.workload);
    }
    if (body["outsider"]) {
      ++kinds;
      a.kind = AttackSpec::Kind::kOutsider;
      bool yes = false;
      if (boolean(body["outsider"], p_ + "attack.outsider", yes) && !yes) {
        err(body["outsider"], p_ + "attack.outsider", "write outsider: true (or choose another attack)");
      }
    }
    if (body["forged"]) {
      ++kinds;
      a.kind = AttackSpec::Kind::kForged;
      if (str(body["forged"], p_ + "attack.forged", a.spiffe_id)) {
        auto parsed = analysis::parseCheckSource("forged:" + a.spiffe_id);
        if (!parsed.ok()) {
          err(body["forged"], p_ + "attack.forged", parsed.status().message());
        } else {
          a.spiffe_id = parsed->spiffe_id;
        }
      }
    }
    if (body["stealToken"]) {
      ++kinds;
      a.kind = AttackSpec::Kind::kStolenToken;
      if (jwt(body["stealToken"], p_ + "attack.stealToken", a.token) && a.token.kind != JwtSpec::Kind::kClaims &&
          a.token.kind != JwtSpec::Kind::kUser) {
        err(body["stealToken"], p_ + "attack.stealToken", "a stolen token is given by claims or user");
      }
      if (step.name.empty()) {
        err(body, "name", "a stealToken step needs a name: later requests replay it with jwt: {stolen: NAME}");
      } else {
        known_attacks_.insert(step.name);
      }
    }
    if (kinds != 1) {
      err(body, p_ + "attack", "give exactly one of compromise, outsider, forged or stealToken");
      return;
    }
    if (body["from"]) {
      if (a.kind != AttackSpec::Kind::kStolenToken) {
        err(body["from"], p_ + "attack.from", "only a stealToken attack takes from (the others set it)");
      } else if (str(body["from"], p_ + "attack.from", a.from)) {
        auto parsed = analysis::parseCheckSource(a.from);
        if (!parsed.ok()) err(body["from"], p_ + "attack.from", parsed.status().message());
      }
    }
    if (body["probes"]) {
      const YAML::Node ps = body["probes"];
      if (!ps.IsSequence()) {
        err(ps, p_ + "attack.probes", "expected a list of requests {to, port, method, path, headers, jwt}");
        return;
      }
      for (size_t i = 0; i < ps.size(); ++i) {
        RequestSpec r;
        if (request(ps[i], p_ + "attack.probes[" + std::to_string(i) + "]", r, {}, false)) a.probes.push_back(r);
      }
    }
    if (a.kind == AttackSpec::Kind::kStolenToken && a.probes.empty()) {
      err(body, p_ + "attack.probes", "a stealToken attack needs probes (where the token is replayed)");
    }
  }

  void assertion(const YAML::Node& n, const std::string& field, Step& step) {
    static const std::map<std::string, AssertionKind> kKinds = {
        {"request", AssertionKind::kRequest},   {"split", AssertionKind::kSplit},
        {"mtls", AssertionKind::kMtls},         {"statuses", AssertionKind::kStatuses},
        {"blastRadius", AssertionKind::kBlastRadius}, {"audit", AssertionKind::kAudit},
        {"effective", AssertionKind::kEffective},     {"attack", AssertionKind::kAttack}};
    if (!n.IsMap() || n.size() != 1 || !n.begin()->first.IsScalar() ||
        kKinds.count(n.begin()->first.Scalar()) == 0) {
      err(n, field, "an assertion is one of request, split, mtls, statuses, blastRadius, audit, effective, attack");
      return;
    }
    Assertion a;
    a.kind = kKinds.at(n.begin()->first.Scalar());
    a.where = loc(n);
    const YAML::Node b = n.begin()->second;
    const std::string f = field + "." + n.begin()->first.Scalar();
    size_t errors = out_.errorCount();
    int64_t v = 0;
    switch (a.kind) {
      case AssertionKind::kRequest: {
        if (!request(b, f, a.request, {"status", "body", "bodyContains", "stage", "policy", "mtls", "version"}, true)) {
          break;
        }
        if (b["status"] && integer(b["status"], f + ".status", 0, 599, v)) a.status = static_cast<int>(v);
        std::string s;
        if (b["body"] && str(b["body"], f + ".body", s)) a.body = s;
        if (b["bodyContains"] && str(b["bodyContains"], f + ".bodyContains", s)) a.body_contains = s;
        if (b["stage"] && str(b["stage"], f + ".stage", s)) {
          static const std::set<std::string> kStages = {"none", "request", "route", "transport", "peer_authn",
                                                        "jwt", "authz", "ratelimit", "app"};
          if (kStages.count(s) == 0) {
            err(b["stage"], f + ".stage",
                "expected none, request, route, transport, peer_authn, jwt, authz, ratelimit or app");
          }
          a.stage = s;
        }
        if (b["policy"] && str(b["policy"], f + ".policy", s)) a.policy = s;
        bool m = false;
        if (b["mtls"] && boolean(b["mtls"], f + ".mtls", m)) a.mtls = m;
        if (b["version"] && str(b["version"], f + ".version", s)) a.version = s;
        if (!a.status && !a.body && !a.body_contains && !a.stage && !a.policy && !a.mtls && !a.version) {
          err(b, f, "say what to expect: status, body, bodyContains, stage, policy, mtls or version");
        }
        break;
      }
      case AssertionKind::kSplit: {
        if (!keys(b, f, {"service", "shares", "tolerance"})) break;
        if (!b["service"] || !b["shares"]) {
          err(b, f, "service and shares are required");
          break;
        }
        nsName(b["service"], f + ".service", a.service);
        const YAML::Node sh = b["shares"];
        if (!sh.IsMap() || sh.size() == 0) {
          err(sh, f + ".shares", "expected a mapping of subset to percent, e.g. {v1: 90, v2: 10}");
          break;
        }
        double total = 0;
        for (auto it = sh.begin(); it != sh.end(); ++it) {
          double p = 0;
          std::string name;
          if (str(it->first, f + ".shares", name) && number(it->second, f + ".shares." + name, p)) {
            a.shares[name] = p;
            total += p;
          }
        }
        if (a.shares.size() == sh.size() && (total < 99.5 || total > 100.5)) {
          err(sh, f + ".shares", "shares add up to " + std::to_string(static_cast<int>(total)) + ", not 100");
        }
        if (b["tolerance"]) number(b["tolerance"], f + ".tolerance", a.tolerance);
        break;
      }
      case AssertionKind::kMtls: {
        if (!keys(b, f, {"edges"})) break;
        if (!b["edges"]) {
          err(b, f, "edges is required: all, or a list of \"NS/SRC -> NS/DST\"");
          break;
        }
        const YAML::Node e = b["edges"];
        if (e.IsScalar() && e.Scalar() == "all") break;
        if (!e.IsSequence() || e.size() == 0) {
          err(e, f + ".edges", "expected all, or a list of \"NS/SRC -> NS/DST\"");
          break;
        }
        strList(e, f + ".edges", a.edges);
        for (size_t i = 0; i < a.edges.size(); ++i) {
          if (a.edges[i].find(" -> ") == std::string::npos) {
            err(e[i], f + ".edges[" + std::to_string(i) + "]", "expected \"NS/SRC -> NS/DST\"");
          }
        }
        break;
      }
      case AssertionKind::kStatuses: {
        if (!b.IsMap() || b.size() == 0) {
          err(b, f, "expected a mapping of status to count, e.g. {200: 90, 429: 10}");
          break;
        }
        for (auto it = b.begin(); it != b.end(); ++it) {
          std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
          if (k == "tolerance") {
            if (integer(it->second, f + ".tolerance", 0, kMaxRequests, v)) a.tolerance_count = static_cast<uint64_t>(v);
            continue;
          }
          int64_t code = 0;
          if (k == "reset") {
            code = 0;
          } else if (!integer(it->first, f, 100, 599, code)) {
            continue;
          }
          if (integer(it->second, f + "." + k, 0, kMaxRequests, v)) a.statuses[static_cast<int>(code)] = static_cast<uint64_t>(v);
        }
        break;
      }
      case AssertionKind::kBlastRadius: {
        if (!keys(b, f, {"workload", "reached", "includes", "excludes", "hops", "plaintext"})) break;
        if (!b["workload"]) {
          err(b, f, "workload is required (NS/NAME)");
          break;
        }
        nsName(b["workload"], f + ".workload", a.workload);
        if (b["reached"]) {
          a.exact = true;
          if (!b["reached"].IsSequence()) {
            err(b["reached"], f + ".reached", "expected a list of NS/NAME (use [] for none)");
          } else {
            strList(b["reached"], f + ".reached", a.reached);
          }
        }
        if (b["includes"]) strList(b["includes"], f + ".includes", a.includes);
        if (b["excludes"]) strList(b["excludes"], f + ".excludes", a.excludes);
        if (!b["reached"] && !b["includes"] && !b["excludes"]) {
          err(b, f, "give reached (the exact set), includes or excludes");
        }
        if (b["hops"] && integer(b["hops"], f + ".hops", 1, 64, v)) a.hops = static_cast<uint32_t>(v);
        if (b["plaintext"]) boolean(b["plaintext"], f + ".plaintext", a.plaintext);
        break;
      }
      case AssertionKind::kAudit: {
        if (!keys(b, f, {"user", "verb", "outcome", "kind", "resource", "count"})) break;
        if (b["user"]) str(b["user"], f + ".user", a.user);
        if (b["verb"] && str(b["verb"], f + ".verb", a.verb) && a.verb != "apply" && a.verb != "delete") {
          err(b["verb"], f + ".verb", "expected apply or delete");
        }
        if (b["outcome"] && str(b["outcome"], f + ".outcome", a.outcome) && a.outcome != "accepted" &&
            a.outcome != "refused") {
          err(b["outcome"], f + ".outcome", "expected accepted or refused");
        }
        if (b["kind"]) str(b["kind"], f + ".kind", a.audit_kind);
        if (b["resource"]) str(b["resource"], f + ".resource", a.resource);
        if (b["count"] && integer(b["count"], f + ".count", 0, 1000000, v)) a.count = static_cast<uint64_t>(v);
        break;
      }
      case AssertionKind::kEffective: {
        if (!keys(b, f, {"workload", "trafficMode", "authorizationMode", "trafficModeFrom", "lockedBy"})) break;
        if (!b["workload"]) {
          err(b, f, "workload is required (NS/NAME)");
          break;
        }
        nsName(b["workload"], f + ".workload", a.workload);
        if (b["trafficMode"] && str(b["trafficMode"], f + ".trafficMode", a.traffic_mode) &&
            a.traffic_mode != "UNSET" && a.traffic_mode != "OPTIONAL" && a.traffic_mode != "REQUIRED") {
          err(b["trafficMode"], f + ".trafficMode", "expected UNSET, OPTIONAL or REQUIRED");
        }
        if (b["authorizationMode"]) str(b["authorizationMode"], f + ".authorizationMode", a.authorization_mode);
        if (b["trafficModeFrom"]) str(b["trafficModeFrom"], f + ".trafficModeFrom", a.traffic_mode_from);
        if (b["lockedBy"]) str(b["lockedBy"], f + ".lockedBy", a.locked_by);
        if (a.traffic_mode.empty() && a.authorization_mode.empty() && a.traffic_mode_from.empty() &&
            a.locked_by.empty()) {
          err(b, f, "give trafficMode, authorizationMode, trafficModeFrom or lockedBy");
        }
        break;
      }
      case AssertionKind::kAttack: {
        if (!keys(b, f, {"reached", "refused"})) break;
        if (b["reached"]) strList(b["reached"], f + ".reached", a.includes);
        if (b["refused"]) strList(b["refused"], f + ".refused", a.excludes);
        if (a.includes.empty() && a.excludes.empty()) err(b, f, "give reached and/or refused (NS/SERVICE lists)");
        if (!seen_attack_) err(b, f, "no earlier attack step to check");
        break;
      }
    }
    if (out_.errorCount() == errors) step.assertions.push_back(std::move(a));
  }

  void stepNode(const YAML::Node& n, size_t index, Scenario& sc) {
    const std::string field = "spec.steps[" + std::to_string(index) + "]";
    p_ = field + ".";
    static const std::map<std::string, StepKind> kKinds = {
        {"apply", StepKind::kApply},       {"delete", StepKind::kDelete}, {"traffic", StepKind::kTraffic},
        {"advanceTime", StepKind::kAdvanceTime}, {"attack", StepKind::kAttack},
        {"expect", StepKind::kExpect},     {"note", StepKind::kNote}};
    Step step;
    step.where = loc(n);
    std::string action;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.Scalar();
      if (kKinds.count(k) != 0 && (action.empty() || action == "note")) action = k;
    }
    step.kind = kKinds.at(action);
    if (n["name"]) str(n["name"], field + ".name", step.name);
    if (n["note"]) str(n["note"], field + ".note", step.note);
    const bool change_step = step.kind == StepKind::kApply || step.kind == StepKind::kDelete;
    if (n["as"]) {
      if (!change_step) {
        err(n["as"], field + ".as", "only apply and delete steps take as");
      } else {
        str(n["as"], field + ".as", step.user);
      }
    }
    if (n["expectError"]) {
      std::string code;
      if (!change_step) {
        err(n["expectError"], field + ".expectError", "only apply and delete steps take expectError");
      } else if (str(n["expectError"], field + ".expectError", code)) {
        static const std::set<std::string> kCodes = {"InvalidArgument", "NotFound", "AlreadyExists", "PermissionDenied",
                                                     "FailedPrecondition", "any"};
        if (kCodes.count(code) == 0) {
          err(n["expectError"], field + ".expectError",
              "expected PermissionDenied, FailedPrecondition, InvalidArgument, NotFound, AlreadyExists or any");
        }
        step.expect_error = code;
      }
    }
    const YAML::Node body = n[action];
    const std::string f = field + "." + action;
    switch (step.kind) {
      case StepKind::kNote:
        break;
      case StepKind::kApply:
      case StepKind::kDelete:
        change(body, f, step);
        break;
      case StepKind::kTraffic:
        traffic(body, step);
        break;
      case StepKind::kAdvanceTime: {
        if (str(body, f, step.advance_text)) {
          auto ms = parseStepDuration(step.advance_text);
          if (!ms.ok()) {
            err(body, f, ms.status().message());
          } else if (*ms % 1000 != 0) {
            err(body, f, "simulated time moves in whole seconds");
          } else {
            step.advance_seconds = *ms / 1000;
          }
        }
        break;
      }
      case StepKind::kAttack:
        attack(body, step);
        seen_attack_ = true;
        break;
      case StepKind::kExpect:
        if (!body.IsSequence() || body.size() == 0) {
          err(body, f, "expected a list of assertions");
          break;
        }
        for (size_t i = 0; i < body.size(); ++i) assertion(body[i], f + "[" + std::to_string(i) + "]", step);
        break;
    }
    sc.steps.push_back(std::move(step));
  }

  void scenario(const YAML::Node& spec, Scenario& sc) {
    if (spec["files"]) sc.initial_resources = loadFiles(spec["files"], "spec.files", sc.files);
    const YAML::Node steps = spec["steps"];
    if (!steps || !steps.IsSequence() || steps.size() == 0) {
      err(spec, "spec.steps", "a scenario needs at least one step");
      return;
    }
    for (size_t i = 0; i < steps.size(); ++i) stepNode(steps[i], i, sc);
  }

 private:
  std::string file_;
  fs::path base_;
  Diagnostics& out_;
  std::set<std::string> known_attacks_;
  bool seen_attack_ = false;
  std::string p_;  // field path of the step being parsed, with a trailing dot
};

std::string fmtPercent(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

const char* assertionKindName(AssertionKind kind) {
  switch (kind) {
    case AssertionKind::kRequest: return "request";
    case AssertionKind::kSplit: return "split";
    case AssertionKind::kMtls: return "mtls";
    case AssertionKind::kStatuses: return "statuses";
    case AssertionKind::kBlastRadius: return "blastRadius";
    case AssertionKind::kAudit: return "audit";
    case AssertionKind::kEffective: return "effective";
    case AssertionKind::kAttack: return "attack";
  }
  return "?";
}

const char* stepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kApply: return "apply";
    case StepKind::kDelete: return "delete";
    case StepKind::kTraffic: return "traffic";
    case StepKind::kAdvanceTime: return "advanceTime";
    case StepKind::kAttack: return "attack";
    case StepKind::kExpect: return "expect";
    case StepKind::kNote: return "note";
  }
  return "?";
}

Result<int64_t> parseStepDuration(const std::string& text) {
  auto bad = [&] {
    return invalidArgument("expected a duration such as 25h, 90m, 1h30m, 45s, 2d or 500ms, got \"" + text + "\"");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 12) return bad();
    int64_t n = std::stoll(text.substr(start, i - start));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    int64_t mult = 0;
    if (unit == "ms") mult = 1;
    if (unit == "s") mult = 1000;
    if (unit == "m") mult = 60 * 1000;
    if (unit == "h") mult = 3600 * 1000;
    if (unit == "d") mult = 86400 * 1000;
    if (mult == 0) return bad();
    total += n * mult;
    if (total > int64_t{1000} * 86400 * 365 * 100) return bad();
  }
  return total;
}

std::string describeStep(const Step& s) {
  std::string out = stepKindName(s.kind);
  switch (s.kind) {
    case StepKind::kApply:
    case StepKind::kDelete: {
      std::string what;
      for (const auto& f : s.files) what += (what.empty() ? "" : ", ") + f;
      size_t inline_count = s.resources.size() + s.delete_keys.size();
      if (what.empty()) what = std::to_string(inline_count) + " resource(s)";
      out += " " + what + " as " + s.user;
      if (s.expect_error) out += " (expect " + *s.expect_error + ")";
      break;
    }
    case StepKind::kTraffic:
      out += " " + s.traffic.from + " -> " + s.traffic.to + " " + s.traffic.method + " " + s.traffic.path;
      out += s.requests > 0 ? " x" + std::to_string(s.requests) : " for " + std::to_string(s.duration_ms) + "ms";
      if (s.concurrency > 1) out += " (concurrency " + std::to_string(s.concurrency) + ")";
      break;
    case StepKind::kAdvanceTime:
      out += " " + s.advance_text;
      break;
    case StepKind::kAttack:
      switch (s.attack.kind) {
        case AttackSpec::Kind::kCompromise: out += ": compromise " + s.attack.workload; break;
        case AttackSpec::Kind::kOutsider: out += ": plaintext outsider"; break;
        case AttackSpec::Kind::kForged: out += ": forged certificate " + s.attack.spiffe_id; break;
        case AttackSpec::Kind::kStolenToken: out += ": stolen end-user token, replayed from " + s.attack.from; break;
      }
      break;
    case StepKind::kExpect:
      out += " (" + std::to_string(s.assertions.size()) + " assertion" + (s.assertions.size() == 1 ? "" : "s") + ")";
      break;
    case StepKind::kNote: {
      std::string text = s.note.size() > 60 ? s.note.substr(0, 57) + "..." : s.note;
      out += ": " + text;
      break;
    }
  }
  return out;
}

std::string describeAssertion(const Assertion& a) {
  std::string out = assertionKindName(a.kind);
  switch (a.kind) {
    case AssertionKind::kRequest:
      out += " " + a.request.from + " -> " + a.request.to + " " + a.request.method + " " + a.request.path;
      if (a.request.jwt.kind != JwtSpec::Kind::kNone) out += " (with JWT)";
      break;
    case AssertionKind::kSplit: {
      out += " " + a.service;
      for (const auto& [k, v] : a.shares) out += " " + k + "=" + fmtPercent(v) + "%";
      out += " (±" + fmtPercent(a.tolerance) + ")";
      break;
    }
    case AssertionKind::kMtls:
      if (a.edges.empty()) {
        out += " on every edge of the last traffic step";
      } else {
        for (const auto& e : a.edges) out += " [" + e + "]";
      }
      break;
    case AssertionKind::kStatuses:
      out += " of the last traffic step";
      break;
    case AssertionKind::kBlastRadius:
    case AssertionKind::kEffective:
      out += " " + a.workload;
      break;
    case AssertionKind::kAudit:
      for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
               {"user", a.user}, {"verb", a.verb}, {"outcome", a.outcome}, {"kind", a.audit_kind},
               {"resource", a.resource}}) {
        if (!v.empty()) out += " " + k + "=" + v;
      }
      break;
    case AssertionKind::kAttack:
      out += " of the last attack step";
      break;
  }
  return out;
}

ParsedScenario parseScenarioText(const std::string& text, const std::string& file) {
  ParsedScenario out;
  auto loaded = config::loadString(text, file);
  out.diagnostics.append(loaded.diagnostics);
  if (loaded.diagnostics.hasErrors()) return out;
  const model::Scenario* model_sc = nullptr;
  size_t scenarios = 0;
  for (const auto& r : loaded.resources) {
    if (const auto* s = std::get_if<model::Scenario>(&r)) {
      model_sc = s;
      ++scenarios;
    } else {
      const auto& m = model::metaOf(r);
      out.diagnostics.error(m.source, "kind",
                            "a scenario file holds only the Scenario; put " + m.kind + " " + m.name +
                                " in one of the files the scenario loads");
    }
  }
  if (scenarios != 1) {
    out.diagnostics.error({file, 0, 0}, "kind",
                          scenarios == 0 ? "no kind: Scenario document in this file"
                                         : "more than one Scenario in this file");
  }
  if (out.diagnostics.hasErrors()) return out;
  Scenario sc;
  sc.name = model_sc->meta.name;
  sc.description = model_sc->description;
  sc.file = file;
  sc.where = model_sc->meta.source;
  Parser parser(file, out.diagnostics);
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    for (const auto& d : docs) {
      if (d.IsMap() && d["kind"] && d["kind"].IsScalar() && d["kind"].Scalar() == "Scenario") {
        parser.scenario(d["spec"], sc);
      }
    }
  } catch (const std::exception& e) {
    out.diagnostics.error({file, 0, 0}, "", std::string("cannot read the scenario: ") + e.what());
  }
  out.diagnostics.sort();
  if (!out.diagnostics.hasErrors()) out.scenario = std::move(sc);
  return out;
}

ParsedScenario loadScenario(const std::string& path) {
  std::error_code ec;
  std::string file = path;
  if (fs::is_directory(path, ec)) file = (fs::path(path) / "scenario.yaml").string();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    ParsedScenario out;
    out.diagnostics.error({file, 0, 0}, "",
                          fs::is_directory(path, ec) ? "the folder has no scenario.yaml" : "cannot read the file");
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (16u << 20)) {
    ParsedScenario out;
    out.diagnostics.error({file, 0, 0}, "", "the file is larger than 16 MiB");
    return out;
  }
  return parseScenarioText(text.str(), file);
}

}  // namespace meshsim::scenario
