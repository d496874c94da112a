#pragma once
/// The management plane's durable state: resources, revisions and the hash-chained audit log,
/// kept in one SQLite database (WAL, synchronous=FULL) inside a state directory. A change and its
/// audit record are written in one transaction, so a change is acknowledged only once both are
/// on disk. Not thread-safe: one StateStore per thread; several processes may open the same
/// directory (SQLite serialises writers).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/common/status.h"

namespace meshsim::mgmt {

/// One attempted change, accepted or refused.
struct AuditRecord {
  int64_t seq = 0;           ///< 1, 2, 3 ... assigned by the store
  std::string time;          ///< RFC 3339 UTC, e.g. "2026-11-22T10:15:00Z" (caller supplies)
  std::string user;
  std::string verb;          ///< "apply" | "delete"
  std::string kind;
  std::string resource;      ///< FQN (hierarchy kinds) or "Kind ns/name"
  std::string outcome;       ///< "accepted" | "refused"
  std::string reason;        ///< why refused (or "created"/"updated"/"deleted"/"unchanged")
  std::string diff;          ///< unified diff of the resource's YAML
  std::string prev_hash;     ///< hex SHA-256 of the previous record ("" for the first)
  std::string hash;          ///< hex SHA-256 over prev_hash and every field above
};

/// A stored resource: its store key, kind, FQN and canonical YAML.
struct StoredResource {
  std::string key;   ///< model::ResourceKey::toString()
  std::string kind;
  std::string fqn;
  std::string yaml;  ///< one YAML document
  uint64_t revision = 0;  ///< store revision of its last change
};

/// Filter for listing audit records; empty fields match everything.
struct AuditFilter {
  std::string user;
  std::string resource;  ///< substring of the resource FQN/key
  std::string since;     ///< RFC 3339; records at or after this time
};

/// Result of checking the hash chain.
struct VerifyResult {
  bool ok = true;
  int64_t records = 0;
  int64_t first_broken_seq = 0;  ///< 0 when ok
  std::string problem;           ///< e.g. "record 7: contents do not match its hash (edited)"
};

/// How long a state must survive.
enum class Durability {
  kDurable,         ///< on disk when a commit returns, across crashes (synchronous = FULL)
  /// Lives only as long as the process that made it (e.g. `meshsim serve` without --state, which
  /// deletes its state on exit): commits are not flushed to disk, so bootstrapping 20,000
  /// resources does not wait for 20,000 flushes. Atomicity and the audit chain are unchanged.
  kProcessLifetime,
};

class StateStore {
 public:
  /// Opens (creating if needed) the state in directory `dir` (file `dir/meshsim.db`).
  static Result<std::unique_ptr<StateStore>> open(const std::string& dir,
                                                  Durability durability = Durability::kDurable);
  virtual ~StateStore() = default;

  /// Current revision (0 for a new state).
  virtual uint64_t revision() = 0;

  /// Atomically upserts `upserts`, deletes the resources keyed `deletes`, bumps the revision once
  /// and appends `record` (seq, prev_hash and hash are filled in). Durable when this returns ok.
  /// `record_out` receives the stored record.
  virtual Status commit(const std::vector<StoredResource>& upserts,
                        const std::vector<std::string>& deletes, AuditRecord record,
                        AuditRecord* record_out = nullptr) = 0;

  /// Appends an audit record without changing resources (refused changes). Durable on return.
  virtual Status appendAudit(AuditRecord record, AuditRecord* record_out = nullptr) = 0;

  /// All current resources, ordered by key.
  virtual Result<std::vector<StoredResource>> resources() = 0;

  /// Audit records in sequence order, filtered.
  virtual Result<std::vector<AuditRecord>> audit(const AuditFilter& filter = {}) = 0;

  /// One record by sequence number (NotFound when absent).
  virtual Result<AuditRecord> auditRecord(int64_t seq) = 0;

  /// Recomputes the chain: detects edited, deleted, inserted and reordered records.
  virtual Result<VerifyResult> verify() = 0;
};

/// The hash of a record: hex SHA-256 over prev_hash and every field (length-prefixed, so field
/// boundaries cannot be shifted).
std::string auditHash(const AuditRecord& record);

/// A unified diff (3 lines of context) from `before` to `after`, with headers
/// "--- a/<label>" / "+++ b/<label>". Empty when the texts are equal. "" before = creation.
std::string unifiedDiff(const std::string& before, const std::string& after,
                        const std::string& label);

}  // namespace meshsim::mgmt
