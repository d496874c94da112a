#include "meshsim/mgmt/plane.h"

#include <chrono>
#include <ctime>
#include <algorithm>
#include <climits>
#include <map>
#include <variant>
#include <set>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/mgmt/rbac.h"
#include "meshsim/mgmt/settings.h"

namespace meshsim::mgmt {

namespace {

const model::SecuritySettingSpec* securitySpecOf(const model::Resource& r) {
  if (const auto* s = std::get_if<model::SecuritySetting>(&r)) return &s->spec;
  const model::HierarchySetting* h = nullptr;
  if (const auto* o = std::get_if<model::OrganizationSettingRes>(&r)) h = o;
  if (const auto* t = std::get_if<model::TenantSettingRes>(&r)) h = t;
  if (const auto* w = std::get_if<model::WorkspaceSettingRes>(&r)) h = w;
  return h != nullptr && h->default_security ? &*h->default_security : nullptr;
}

// The state with the whole batch applied, built once (a snapshot copies every resource, so one
// per batch resource made applying N resources cost N^2): the resources the batch does not
// replace, in their order, then the batch; a key given twice keeps its last document, in the
// place of its last occurrence, as applying them one after the other would.
std::shared_ptr<const config::Snapshot> withBatch(const config::Snapshot& snap,
                                                  const std::vector<model::Resource>& batch) {
  std::map<model::ResourceKey, size_t> last;
  for (size_t i = 0; i < batch.size(); ++i) last[model::keyOf(batch[i])] = i;
  std::vector<model::Resource> all;
  all.reserve(snap.resources.size() + batch.size());
  for (const auto& existing : snap.resources) {
    if (last.count(model::keyOf(existing)) == 0) all.push_back(existing);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (last[model::keyOf(batch[i])] == i) all.push_back(batch[i]);
  }
  return config::makeSnapshot(std::move(all));
}

// Whether applying `r` can change what checkAccess decides (users, teams, roles, bindings).
bool changesAccess(const model::Resource& r) {
  return std::holds_alternative<model::User>(r) || std::holds_alternative<model::Team>(r) ||
         std::holds_alternative<model::Role>(r) || std::holds_alternative<model::AccessBinding>(r);
}

}  // namespace

std::string wallClockRfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ManagementPlane::ManagementPlane(std::unique_ptr<StateStore> state, Clock clock)
    : state_(std::move(state)), clock_(std::move(clock)) {}

Result<std::unique_ptr<ManagementPlane>> ManagementPlane::open(const std::string& state_dir,
                                                               Clock clock, Durability durability) {
  auto state = StateStore::open(state_dir, durability);
  if (!state.ok()) return state.status();
  std::unique_ptr<ManagementPlane> plane(new ManagementPlane(std::move(state).value(), std::move(clock)));
  auto stored = plane->state_->resources();
  if (!stored.ok()) return stored.status();
  std::vector<std::pair<uint64_t, model::Resource>> loaded;
  for (const auto& s : *stored) {
    auto r = config::loadString(s.yaml, state_dir + "/meshsim.db:" + s.key);
    if (r.diagnostics.hasErrors() || r.resources.size() != 1) {
      return internalError("stored resource " + s.key + " no longer parses: " +
                           (r.diagnostics.items().empty() ? std::string("no document")
                                                          : r.diagnostics.items()[0].toString()));
    }
    loaded.emplace_back(s.revision, std::move(r.resources[0]));
  }
  // Replaying in revision order keeps "oldest wins" rules meaningful across commands.
  std::stable_sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [rev, r] : loaded) {
    auto& meta = model::metaOf(r);
    if (!meta.creation_timestamp) meta.creation_index = 0;
    plane->store_.apply(std::move(r));
  }
  return plane;
}

ChangeOutcome ManagementPlane::refuse(ChangeOutcome outcome, StatusCode code, std::string message,
                                      const std::string& user) {
  outcome.accepted = false;
  outcome.code = code;
  outcome.message = std::move(message);
  AuditRecord rec;
  rec.time = clock_();
  rec.user = user;
  rec.verb = outcome.verb;
  rec.kind = outcome.kind;
  rec.resource = outcome.resource;
  rec.outcome = "refused";
  rec.reason = std::string(statusCodeName(code)) + ": " + outcome.message;
  rec.diff = outcome.diff;
  AuditRecord stored;
  Status st = state_->appendAudit(rec, &stored);
  if (!st.ok()) {
    outcome.code = st.code();
    outcome.message += " (and the audit record could not be written: " + st.message() + ")";
  } else {
    outcome.audit_seq = stored.seq;
  }
  return outcome;
}

std::vector<ChangeOutcome> ManagementPlane::apply(const std::vector<model::Resource>& resources,
                                                  const std::string& user) {
  std::vector<ChangeOutcome> out;
  // References are judged against the state with the whole batch applied, so a directory can
  // create a tenant and its workspaces in any order (like kubectl apply -f DIR).
  std::shared_ptr<const config::Snapshot> current = store_.snapshot();
  const std::shared_ptr<const config::Snapshot> batch = withBatch(*current, resources);
  Diagnostics current_diags, batch_diags;
  config::validateReferences(current->resources, current_diags);
  config::validateReferences(batch->resources, batch_diags);
  std::set<std::string> known;
  for (const auto& d : current_diags.items()) known.insert(d.toString());
  // Where each document of a file ends: the next document's first line in the same file.
  std::map<std::string, std::vector<uint32_t>> starts;
  for (const auto& r : resources) {
    const auto& source = model::metaOf(r).source;
    starts[source.file].push_back(source.line);
  }
  for (auto& [file, lines] : starts) std::sort(lines.begin(), lines.end());

  for (const auto& resource : resources) {
    // Access is judged against the state as applied so far; it changes only with the access
    // resources, so the state is snapshotted again only after one of those.
    if (!current) current = store_.snapshot();
    const auto& candidate = batch;
    const model::ObjectMeta& meta = model::metaOf(resource);
    const auto key = model::keyOf(resource);
    const model::Resource* existing = store_.find(key);

    ChangeOutcome o;
    o.verb = "apply";
    o.kind = meta.kind;
    o.resource = fqnOf(*candidate, resource);
    const std::string before = existing != nullptr ? model::metaOf(*existing).document : "";
    o.diff = unifiedDiff(before, meta.document, o.resource);

    // 1. The configuration must stay valid: an error the state does not already have, found in
    //    this resource's document, refuses it.
    const auto& lines = starts[meta.source.file];
    const auto next = std::upper_bound(lines.begin(), lines.end(), meta.source.line);
    const uint32_t next_line = next != lines.end() ? *next : UINT32_MAX;
    std::string problem;
    for (const auto& d : batch_diags.items()) {
      if (d.severity != Severity::kError || known.count(d.toString()) != 0) continue;
      if (d.where.file == meta.source.file && d.where.line >= meta.source.line && d.where.line < next_line) {
        problem = (d.field.empty() ? "" : d.field + ": ") + d.message;
        break;
      }
    }
    if (!problem.empty()) {
      out.push_back(refuse(o, StatusCode::kInvalidArgument, problem, user));
      continue;
    }
    // 2. Permission: CREATE at the parent node for new resources, WRITE on the resource itself.
    AccessRequest req;
    req.user = user;
    req.kind = meta.kind;
    req.permission = existing != nullptr ? model::Permission::kWrite : model::Permission::kCreate;
    req.fqn = existing != nullptr ? o.resource : parentFqn(*candidate, resource);
    AccessDecision access = checkAccess(*current, req);
    if (!access.allowed) {
      out.push_back(refuse(o, StatusCode::kPermissionDenied, access.reason, user));
      continue;
    }
    // 3. STRICTER: a setting may tighten what an ancestor locked, never weaken it.
    if (const auto* spec = securitySpecOf(resource)) {
      if (auto weak = findWeakening(ancestorChain(*candidate, resource), *spec)) {
        out.push_back(refuse(o, StatusCode::kFailedPrecondition,
                             weak->field + " " + weak->attempted + " would weaken " + weak->locked +
                                 " locked by " + weak->locked_by + " (propagationStrategy STRICTER)",
                             user));
        continue;
      }
    }
    // 4. Commit the change and its audit record in one transaction.
    o.result = existing == nullptr ? "created" : (before == meta.document ? "unchanged" : "updated");
    AuditRecord rec;
    rec.time = clock_();
    rec.user = user;
    rec.verb = "apply";
    rec.kind = meta.kind;
    rec.resource = o.resource;
    rec.outcome = "accepted";
    rec.reason = o.result + " (" + access.via + ")";
    rec.diff = o.diff;
    StoredResource stored;
    stored.key = key.toString();
    stored.kind = meta.kind;
    stored.fqn = o.resource;
    stored.yaml = meta.document;
    stored.revision = store_.revision() + 1;
    AuditRecord written;
    Status st = state_->commit({stored}, {}, rec, &written);
    if (!st.ok()) {
      o.accepted = false;
      o.code = st.code();
      o.message = "not applied: " + st.message();
      out.push_back(o);
      continue;
    }
    store_.apply(resource);
    if (changesAccess(resource)) current.reset();
    o.accepted = true;
    o.audit_seq = written.seq;
    out.push_back(o);
  }
  return out;
}

std::vector<ChangeOutcome> ManagementPlane::remove(const std::vector<model::ResourceKey>& keys,
                                                   const std::string& user) {
  std::vector<ChangeOutcome> out;
  for (const auto& key : keys) {
    auto current = store_.snapshot();
    ChangeOutcome o;
    o.verb = "delete";
    o.kind = key.kind;
    const model::Resource* existing = store_.find(key);
    if (existing == nullptr) {
      o.resource = key.toString();
      out.push_back(refuse(o, StatusCode::kNotFound, key.toString() + " does not exist", user));
      continue;
    }
    o.resource = fqnOf(*current, *existing);
    o.diff = unifiedDiff(model::metaOf(*existing).document, "", o.resource);
    AccessDecision access = checkAccess(*current, {user, model::Permission::kDelete, key.kind, o.resource});
    if (!access.allowed) {
      out.push_back(refuse(o, StatusCode::kPermissionDenied, access.reason, user));
      continue;
    }
    std::vector<model::Resource> rest;
    for (const auto& r : current->resources) {
      if (!(model::keyOf(r) == key)) rest.push_back(r);
    }
    Diagnostics diags;
    config::validateReferences(rest, diags);
    if (diags.hasErrors()) {
      const auto& first = diags.items()[0];
      out.push_back(refuse(o, StatusCode::kFailedPrecondition,
                           "still referenced: " + first.where.toString() + ": " + first.field + ": " + first.message,
                           user));
      continue;
    }
    AuditRecord rec;
    rec.time = clock_();
    rec.user = user;
    rec.verb = "delete";
    rec.kind = key.kind;
    rec.resource = o.resource;
    rec.outcome = "accepted";
    rec.reason = "deleted (" + access.via + ")";
    rec.diff = o.diff;
    AuditRecord written;
    Status st = state_->commit({}, {key.toString()}, rec, &written);
    if (!st.ok()) {
      o.code = st.code();
      o.message = "not deleted: " + st.message();
      out.push_back(o);
      continue;
    }
    (void)store_.remove(key);
    o.accepted = true;
    o.result = "deleted";
    o.audit_seq = written.seq;
    out.push_back(o);
  }
  return out;
}

}  // namespace meshsim::mgmt
