// StateStore on SQLite: one database file `meshsim.db` in the state directory, opened in WAL mode
// with synchronous=FULL, so a transaction is on disk when COMMIT returns. Every write is one
// BEGIN IMMEDIATE transaction that also appends the audit record, so a change is acknowledged
// only once its record is durable. All SQL is constant text; input reaches SQLite only through
// bound parameters.
#include "meshsim/mgmt/state.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <climits>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace meshsim::mgmt {

namespace {

namespace fs = std::filesystem;

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;
constexpr const char* kDatabaseFile = "meshsim.db";

// Meta rows. The audit head (sequence number and hash of the last record the store wrote) lets
// verify() notice records removed from the end of the log, which the chain alone cannot show.
constexpr std::string_view kMetaRevision = "revision";
constexpr std::string_view kMetaHeadSeq = "audit_head_seq";
constexpr std::string_view kMetaHeadHash = "audit_head_hash";

constexpr const char* kSchemaSql =
    "CREATE TABLE IF NOT EXISTS resources("
    "  key TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, fqn TEXT NOT NULL,"
    "  yaml TEXT NOT NULL, revision INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY NOT NULL, value);"
    "CREATE TABLE IF NOT EXISTS audit("
    "  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL, verb TEXT NOT NULL,"
    "  kind TEXT NOT NULL, resource TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,"
    "  diff TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "PRAGMA user_version = 1;";

constexpr const char* kAuditColumns =
    "seq, time, user, verb, kind, resource, outcome, reason, diff, prev_hash, hash";

bool isTransient(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

Status sqliteError(const std::string& path, const std::string& what, int rc, sqlite3* db) {
  // sqlite3_errmsg describes the most recent failure on the connection; without one (open failed
  // before a handle existed) the result code's text is all there is.
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg = path + ": " + what + ": " + (detail != nullptr ? detail : sqlite3_errstr(rc));
  return isTransient(rc) ? unavailable(std::move(msg)) : internalError(std::move(msg));
}

// A prepared statement, finalized on scope exit.
// A compiled statement kept for reuse by the connection (SqliteStateStore::prepare).
struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
};

// One use of a prepared statement: its own (finalized on scope exit) or the connection's cached
// one (reset, bindings cleared and handed back on scope exit).
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (cached_ == nullptr) {
      sqlite3_finalize(stmt_);
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cached_->in_use = false;
  }

  void own(sqlite3_stmt* stmt) { stmt_ = stmt; }
  void borrow(CachedStatement& cached) {
    cached.in_use = true;
    cached_ = &cached;
    stmt_ = cached.stmt;
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  CachedStatement* cached_ = nullptr;
};

// The 1-based position of the next bound parameter, and the first binding error.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* stmt) : stmt_(stmt) {}

  Binder& text(std::string_view value) {
    if (rc_ != SQLITE_OK) return *this;
    if (value.size() > static_cast<size_t>(INT_MAX)) {
      rc_ = SQLITE_TOOBIG;
      return *this;
    }
    rc_ = sqlite3_bind_text(stmt_, next_++, value.data(), static_cast<int>(value.size()),
                            SQLITE_TRANSIENT);
    return *this;
  }
  Binder& integer(int64_t value) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, next_++, value);
    return *this;
  }
  int rc() const { return rc_; }

 private:
  sqlite3_stmt* stmt_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
};

// Text of a column; `is_text` (when given) is cleared for anything but TEXT, e.g. NULL or a blob
// written by hand into the database.
std::string columnText(sqlite3_stmt* stmt, int col, bool* is_text = nullptr) {
  if (is_text != nullptr && sqlite3_column_type(stmt, col) != SQLITE_TEXT) *is_text = false;
  const unsigned char* text = sqlite3_column_text(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (text == nullptr || size <= 0) return "";
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

// Reads one row selected with kAuditColumns. `well_formed` is cleared when a column does not hold
// the type the store writes.
AuditRecord readAuditRow(sqlite3_stmt* stmt, bool* well_formed) {
  AuditRecord r;
  if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER) *well_formed = false;
  r.seq = sqlite3_column_int64(stmt, 0);
  r.time = columnText(stmt, 1, well_formed);
  r.user = columnText(stmt, 2, well_formed);
  r.verb = columnText(stmt, 3, well_formed);
  r.kind = columnText(stmt, 4, well_formed);
  r.resource = columnText(stmt, 5, well_formed);
  r.outcome = columnText(stmt, 6, well_formed);
  r.reason = columnText(stmt, 7, well_formed);
  r.diff = columnText(stmt, 8, well_formed);
  r.prev_hash = columnText(stmt, 9, well_formed);
  r.hash = columnText(stmt, 10, well_formed);
  return r;
}

// ---- RFC 3339 times -------------------------------------------------------------------------

// A point in time: seconds since the epoch (UTC) and the fraction's digits, right-padded so that
// comparing them as strings compares the fractions.
struct Instant {
  int64_t seconds = 0;
  std::string fraction;
};

int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  // Days since 1970-01-01 in the proleptic Gregorian calendar (eras of 400 years).
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool isLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool readDigits(std::string_view s, size_t pos, size_t count, int64_t* out) {
  if (pos + count > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)".
bool parseRfc3339(std::string_view s, Instant* out) {
  int64_t year, month, day, hour, minute, second;
  if (!readDigits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !readDigits(s, 5, 2, &month) ||
      s[7] != '-' || !readDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !readDigits(s, 11, 2, &hour) || s[13] != ':' || !readDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !readDigits(s, 17, 2, &second)) {
    return false;
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  const int64_t month_days = kDaysInMonth[month - 1] + (month == 2 && isLeapYear(year) ? 1 : 0);
  if (day > month_days || hour > 23 || minute > 59 || second > 60) return false;
  size_t pos = 19;
  std::string fraction;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') fraction += s[pos++];
    if (fraction.empty()) return false;
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int64_t oh, om;
    if (!readDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !readDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_seconds = (oh * 60 + om) * 60 * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  out->seconds =
      daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  out->fraction = std::move(fraction);
  return true;
}

bool notBefore(const Instant& t, const Instant& since) {
  if (t.seconds != since.seconds) return t.seconds > since.seconds;
  return t.fraction >= since.fraction;  // trailing zeros removed, so this compares numerically
}

Status checkRecord(const AuditRecord& record) {
  Instant ignored;
  if (!parseRfc3339(record.time, &ignored)) {
    return invalidArgument("audit record time \"" + record.time +
                           "\" is not an RFC 3339 time such as 2026-11-22T10:15:00Z");
  }
  if (record.user.empty()) return invalidArgument("audit record has no user");
  if (record.verb.empty()) return invalidArgument("audit record has no verb");
  if (record.outcome.empty()) return invalidArgument("audit record has no outcome");
  return okStatus();
}

// ---- the store ------------------------------------------------------------------------------

class SqliteStateStore final : public StateStore {
 public:
  SqliteStateStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteStateStore() override {
    for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
    sqlite3_close_v2(db_);
  }
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  Status initialise(Durability durability);

  uint64_t revision() override;
  Status commit(const std::vector<StoredResource>& upserts, const std::vector<std::string>& deletes,
                AuditRecord record, AuditRecord* record_out) override;
  Status appendAudit(AuditRecord record, AuditRecord* record_out) override;
  Result<std::vector<StoredResource>> resources() override;
  Result<std::vector<AuditRecord>> audit(const AuditFilter& filter) override;
  Result<AuditRecord> auditRecord(int64_t seq) override;
  Result<VerifyResult> verify() override;

 private:
  // Rolls back on scope exit unless commit() succeeded.
  class Transaction {
   public:
    explicit Transaction(SqliteStateStore& store) : store_(store) {}
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
      if (open_) sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Status begin() {
      Status s = store_.step("BEGIN IMMEDIATE", "begin transaction");
      open_ = s.ok();
      return s;
    }
    Status commit() {
      Status s = store_.step("COMMIT", "commit");
      if (s.ok()) open_ = false;
      return s;
    }

   private:
    SqliteStateStore& store_;
    bool open_ = false;
  };

  Status error(const std::string& what, int rc) { return sqliteError(path_, what, rc, db_); }
  Status exec(const char* sql, const std::string& what);
  // Compiles `sql` once per connection and lends the compiled statement out for each use (a
  // bootstrap of 20,000 resources compiled each of its statements 20,000 times); a use nested
  // inside another of the same statement gets its own. `sql` is a string literal: its address
  // is the key.
  Status prepare(const char* sql, Statement& stmt, const std::string& what);
  // Runs one statement without rows through the cache (BEGIN, COMMIT).
  Status step(const char* sql, const std::string& what);
  // Steps a statement that returns no rows.
  Status run(Statement& stmt, const std::string& what);
  Result<int64_t> metaInt(std::string_view name);
  Status setMeta(std::string_view name, int64_t value);
  Status setMeta(std::string_view name, std::string_view value);
  // Fills seq, prev_hash and hash and inserts the record; inside an open transaction.
  Status insertAudit(AuditRecord& record);

  sqlite3* db_;
  std::string path_;
  uint64_t last_revision_ = 0;
  std::unordered_map<const char*, CachedStatement> statements_;
};

Status SqliteStateStore::exec(const char* sql, const std::string& what) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return okStatus();
  std::string msg = path_ + ": " + what + ": " + (err != nullptr ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return isTransient(rc) ? unavailable(std::move(msg)) : internalError(std::move(msg));
}

Status SqliteStateStore::prepare(const char* sql, Statement& stmt, const std::string& what) {
  auto it = statements_.find(sql);
  if (it != statements_.end() && !it->second.in_use) {
    stmt.borrow(it->second);
    return okStatus();
  }
  sqlite3_stmt* compiled = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql, -1, &compiled, nullptr);
  if (rc != SQLITE_OK) return error(what, rc);
  if (it == statements_.end()) {
    stmt.borrow(statements_.emplace(sql, CachedStatement{compiled, false}).first->second);
  } else {
    stmt.own(compiled);
  }
  return okStatus();
}

Status SqliteStateStore::step(const char* sql, const std::string& what) {
  Statement stmt;
  if (Status s = prepare(sql, stmt, what); !s.ok()) return s;
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return okStatus();
  std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  return isTransient(rc) ? unavailable(std::move(msg)) : internalError(std::move(msg));
}

Status SqliteStateStore::run(Statement& stmt, const std::string& what) {
  const int rc = sqlite3_step(stmt.get());
  return rc == SQLITE_DONE ? okStatus() : error(what, rc);
}

Status SqliteStateStore::initialise(Durability durability) {
  sqlite3_extended_result_codes(db_, 1);
  const int rc = sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  if (rc != SQLITE_OK) return error("set busy timeout", rc);
  {
    // The first statement that reads the file: a non-database file fails here.
    Statement stmt;
    if (Status s = prepare("PRAGMA journal_mode = WAL", stmt, "enable WAL"); !s.ok()) return s;
    const int step = sqlite3_step(stmt.get());
    if (step != SQLITE_ROW) return error("enable WAL", step);
    const std::string mode = columnText(stmt.get(), 0);
    if (mode != "wal") {
      return failedPrecondition(path_ + ": enable WAL: the database stays in journal mode \"" +
                                mode + "\"");
    }
  }
  const char* sync = durability == Durability::kDurable ? "PRAGMA synchronous = FULL"
                                                         : "PRAGMA synchronous = OFF";
  if (Status s = exec(sync, "set synchronous"); !s.ok()) return s;
  if (Status s = exec("PRAGMA foreign_keys = ON", "enable foreign keys"); !s.ok()) return s;

  auto user_version = [this]() -> Result<int64_t> {
    Statement stmt;
    if (Status s = prepare("PRAGMA user_version", stmt, "read schema version"); !s.ok()) return s;
    const int step = sqlite3_step(stmt.get());
    if (step != SQLITE_ROW) return error("read schema version", step);
    return sqlite3_column_int64(stmt.get(), 0);
  };
  Result<int64_t> version = user_version();
  if (!version.ok()) return version.status();
  if (*version == 0) {
    // Another process may be creating the schema at the same time: decide under the write lock.
    Transaction tx(*this);
    if (Status s = tx.begin(); !s.ok()) return s;
    version = user_version();
    if (!version.ok()) return version.status();
    if (*version == 0) {
      if (Status s = exec(kSchemaSql, "create schema"); !s.ok()) return s;
      if (Status s = tx.commit(); !s.ok()) return s;
      version = kSchemaVersion;
    }
  }
  if (*version != kSchemaVersion) {
    return failedPrecondition(path_ + ": schema version " + std::to_string(*version) +
                              " is not the version this meshsim uses (" +
                              std::to_string(kSchemaVersion) + ")");
  }
  Result<int64_t> rev = metaInt(kMetaRevision);
  if (!rev.ok()) return rev.status();
  last_revision_ = static_cast<uint64_t>(*rev);
  return okStatus();
}

Result<int64_t> SqliteStateStore::metaInt(std::string_view name) {
  Statement stmt;
  if (Status s = prepare("SELECT value FROM meta WHERE name = ?1", stmt, "read meta"); !s.ok()) {
    return s;
  }
  Binder bind(stmt.get());
  if (bind.text(name).rc() != SQLITE_OK) return error("read meta", bind.rc());
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return int64_t{0};
  if (rc != SQLITE_ROW) return error("read " + std::string(name), rc);
  return sqlite3_column_int64(stmt.get(), 0);
}

Status SqliteStateStore::setMeta(std::string_view name, int64_t value) {
  Statement stmt;
  if (Status s =
          prepare("INSERT OR REPLACE INTO meta(name, value) VALUES(?1, ?2)", stmt, "write meta");
      !s.ok()) {
    return s;
  }
  Binder bind(stmt.get());
  if (bind.text(name).integer(value).rc() != SQLITE_OK) return error("write meta", bind.rc());
  return run(stmt, "write " + std::string(name));
}

Status SqliteStateStore::setMeta(std::string_view name, std::string_view value) {
  Statement stmt;
  if (Status s =
          prepare("INSERT OR REPLACE INTO meta(name, value) VALUES(?1, ?2)", stmt, "write meta");
      !s.ok()) {
    return s;
  }
  Binder bind(stmt.get());
  if (bind.text(name).text(value).rc() != SQLITE_OK) return error("write meta", bind.rc());
  return run(stmt, "write " + std::string(name));
}

uint64_t SqliteStateStore::revision() {
  // Another process may have committed since the last look; on a read error the last revision
  // this store saw is the best answer the interface can give.
  Result<int64_t> rev = metaInt(kMetaRevision);
  if (rev.ok()) last_revision_ = static_cast<uint64_t>(*rev);
  return last_revision_;
}

Status SqliteStateStore::insertAudit(AuditRecord& record) {
  {
    Statement last;
    if (Status s = prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", last,
                           "read last audit record");
        !s.ok()) {
      return s;
    }
    const int rc = sqlite3_step(last.get());
    if (rc == SQLITE_ROW) {
      record.seq = sqlite3_column_int64(last.get(), 0) + 1;
      record.prev_hash = columnText(last.get(), 1);
    } else if (rc == SQLITE_DONE) {
      record.seq = 1;
      record.prev_hash.clear();
    } else {
      return error("read last audit record", rc);
    }
  }
  record.hash = auditHash(record);
  if (record.hash.empty()) return internalError(path_ + ": append audit record: SHA-256 failed");
  Statement insert;
  if (Status s =
          prepare("INSERT INTO audit(seq, time, user, verb, kind, resource, outcome, reason, diff, "
                  "prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                  insert, "append audit record");
      !s.ok()) {
    return s;
  }
  Binder bind(insert.get());
  bind.integer(record.seq)
      .text(record.time)
      .text(record.user)
      .text(record.verb)
      .text(record.kind)
      .text(record.resource)
      .text(record.outcome)
      .text(record.reason)
      .text(record.diff)
      .text(record.prev_hash)
      .text(record.hash);
  if (bind.rc() != SQLITE_OK) return error("append audit record", bind.rc());
  if (Status s = run(insert, "append audit record"); !s.ok()) return s;
  if (Status s = setMeta(kMetaHeadSeq, record.seq); !s.ok()) return s;
  return setMeta(kMetaHeadHash, record.hash);
}

Status SqliteStateStore::commit(const std::vector<StoredResource>& upserts,
                                const std::vector<std::string>& deletes, AuditRecord record,
                                AuditRecord* record_out) {
  if (Status s = checkRecord(record); !s.ok()) return s;
  for (const auto& r : upserts) {
    if (r.key.empty()) return invalidArgument("a resource to store has an empty key");
  }
  for (const auto& key : deletes) {
    for (const auto& r : upserts) {
      if (r.key == key) {
        return invalidArgument("resource \"" + key + "\" is both stored and deleted in one commit");
      }
    }
  }
  Transaction tx(*this);
  if (Status s = tx.begin(); !s.ok()) return s;
  Result<int64_t> current = metaInt(kMetaRevision);
  if (!current.ok()) return current.status();
  const int64_t revision = *current + 1;

  for (const auto& r : upserts) {
    Statement stmt;
    if (Status s = prepare("INSERT OR REPLACE INTO resources(key, kind, fqn, yaml, revision) "
                           "VALUES(?1, ?2, ?3, ?4, ?5)",
                           stmt, "store resource");
        !s.ok()) {
      return s;
    }
    Binder bind(stmt.get());
    if (bind.text(r.key).text(r.kind).text(r.fqn).text(r.yaml).integer(revision).rc() !=
        SQLITE_OK) {
      return error("store resource " + r.key, bind.rc());
    }
    if (Status s = run(stmt, "store resource " + r.key); !s.ok()) return s;
  }
  for (const auto& key : deletes) {
    Statement stmt;
    if (Status s = prepare("DELETE FROM resources WHERE key = ?1", stmt, "delete resource");
        !s.ok()) {
      return s;
    }
    Binder bind(stmt.get());
    if (bind.text(key).rc() != SQLITE_OK) return error("delete resource " + key, bind.rc());
    if (Status s = run(stmt, "delete resource " + key); !s.ok()) return s;
    if (sqlite3_changes(db_) == 0) {
      return notFound("cannot delete resource \"" + key + "\": it is not in the state");
    }
  }
  if (Status s = setMeta(kMetaRevision, revision); !s.ok()) return s;
  if (Status s = insertAudit(record); !s.ok()) return s;
  if (Status s = tx.commit(); !s.ok()) return s;
  last_revision_ = static_cast<uint64_t>(revision);
  if (record_out != nullptr) *record_out = std::move(record);
  return okStatus();
}

Status SqliteStateStore::appendAudit(AuditRecord record, AuditRecord* record_out) {
  if (Status s = checkRecord(record); !s.ok()) return s;
  Transaction tx(*this);
  if (Status s = tx.begin(); !s.ok()) return s;
  if (Status s = insertAudit(record); !s.ok()) return s;
  if (Status s = tx.commit(); !s.ok()) return s;
  if (record_out != nullptr) *record_out = std::move(record);
  return okStatus();
}

Result<std::vector<StoredResource>> SqliteStateStore::resources() {
  Statement stmt;
  if (Status s = prepare("SELECT key, kind, fqn, yaml, revision FROM resources ORDER BY key", stmt,
                         "list resources");
      !s.ok()) {
    return s;
  }
  std::vector<StoredResource> out;
  for (;;) {
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error("list resources", rc);
    StoredResource r;
    r.key = columnText(stmt.get(), 0);
    r.kind = columnText(stmt.get(), 1);
    r.fqn = columnText(stmt.get(), 2);
    r.yaml = columnText(stmt.get(), 3);
    r.revision = static_cast<uint64_t>(sqlite3_column_int64(stmt.get(), 4));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<AuditRecord>> SqliteStateStore::audit(const AuditFilter& filter) {
  Instant since;
  if (!filter.since.empty() && !parseRfc3339(filter.since, &since)) {
    return invalidArgument("since: \"" + filter.since +
                           "\" is not an RFC 3339 time such as 2026-11-22T10:15:00Z");
  }
  static const std::string sql = std::string("SELECT ") + kAuditColumns +
                                 " FROM audit WHERE (?1 = '' OR user = ?1) AND"
                                 " (?2 = '' OR instr(resource, ?2) > 0) ORDER BY seq";
  Statement stmt;
  if (Status s = prepare(sql.c_str(), stmt, "read audit log"); !s.ok()) return s;
  Binder bind(stmt.get());
  if (bind.text(filter.user).text(filter.resource).rc() != SQLITE_OK) {
    return error("read audit log", bind.rc());
  }
  std::vector<AuditRecord> out;
  for (;;) {
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error("read audit log", rc);
    bool well_formed = true;
    AuditRecord r = readAuditRow(stmt.get(), &well_formed);
    if (!filter.since.empty()) {
      // The store only writes valid times; a record whose time no longer parses was edited by
      // hand and is kept, so that the filter never hides it.
      Instant t;
      if (parseRfc3339(r.time, &t) && !notBefore(t, since)) continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<AuditRecord> SqliteStateStore::auditRecord(int64_t seq) {
  static const std::string sql =
      std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq = ?1";
  Statement stmt;
  if (Status s = prepare(sql.c_str(), stmt, "read audit record"); !s.ok()) return s;
  Binder bind(stmt.get());
  if (bind.integer(seq).rc() != SQLITE_OK) return error("read audit record", bind.rc());
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return notFound("audit record " + std::to_string(seq) + " not found");
  if (rc != SQLITE_ROW) return error("read audit record", rc);
  bool well_formed = true;
  return readAuditRow(stmt.get(), &well_formed);
}

Result<VerifyResult> SqliteStateStore::verify() {
  // One read transaction, so that the log and its head are seen at the same instant.
  if (Status s = exec("BEGIN", "begin read"); !s.ok()) return s;
  struct EndRead {
    sqlite3* db;
    ~EndRead() { sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr); }
  } end_read{db_};

  VerifyResult result;
  auto broken = [&result](int64_t seq, std::string problem) {
    result.ok = false;
    result.first_broken_seq = seq;
    result.problem = std::move(problem);
    return result;
  };
  static const std::string sql =
      std::string("SELECT ") + kAuditColumns + " FROM audit ORDER BY seq";
  Statement stmt;
  if (Status s = prepare(sql.c_str(), stmt, "read audit log"); !s.ok()) return s;
  int64_t last_seq = 0;
  std::string last_hash;
  for (;;) {
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error("read audit log", rc);
    bool well_formed = true;
    const AuditRecord r = readAuditRow(stmt.get(), &well_formed);
    const std::string n = std::to_string(r.seq);
    if (r.seq != last_seq + 1) {
      const int64_t missing_first = last_seq + 1;
      const int64_t missing_last = r.seq - 1;
      std::string removed = missing_first == missing_last
                                ? "record " + std::to_string(missing_first) + " removed"
                                : "records " + std::to_string(missing_first) + " to " +
                                      std::to_string(missing_last) + " removed";
      if (last_seq == 0) return broken(1, "records start at " + n + " (" + removed + ")");
      return broken(missing_first, "records jump from " + std::to_string(last_seq) + " to " + n +
                                       " (" + removed + ")");
    }
    if (r.prev_hash != last_hash) {
      return broken(r.seq, "record " + n +
                               ": previous-hash link broken (a record before it was removed, "
                               "inserted or reordered)");
    }
    if (!well_formed || auditHash(r) != r.hash) {
      return broken(r.seq, "record " + n + ": contents do not match its hash (edited)");
    }
    last_seq = r.seq;
    last_hash = r.hash;
    ++result.records;
  }

  // The chain is intact; compare its end with the head the store wrote last.
  Result<int64_t> head_seq = metaInt(kMetaHeadSeq);
  if (!head_seq.ok()) return head_seq.status();
  std::string head_hash;
  {
    Statement head;
    if (Status s = prepare("SELECT value FROM meta WHERE name = ?1", head, "read audit head");
        !s.ok()) {
      return s;
    }
    Binder bind(head.get());
    if (bind.text(kMetaHeadHash).rc() != SQLITE_OK) return error("read audit head", bind.rc());
    const int rc = sqlite3_step(head.get());
    if (rc == SQLITE_ROW) {
      head_hash = columnText(head.get(), 0);
    } else if (rc != SQLITE_DONE) {
      return error("read audit head", rc);
    }
  }
  const std::string last = std::to_string(last_seq);
  const std::string head = std::to_string(*head_seq);
  if (*head_seq == 0 && last_seq > 0) {
    return broken(last_seq,
                  "record " + last + ": the audit head is missing from the meta table (edited)");
  }
  if (*head_seq > last_seq) {
    const std::string first_missing = std::to_string(last_seq + 1);
    return broken(last_seq + 1,
                  "the log ends at record " + last + " but the store wrote " + head + " records (" +
                      (*head_seq == last_seq + 1 ? "record " + head
                                                 : "records " + first_missing + " to " + head) +
                      " removed)");
  }
  if (*head_seq < last_seq) {
    return broken(*head_seq + 1, "record " + std::to_string(*head_seq + 1) +
                                     ": not written by the store (its last record is " + head +
                                     ")");
  }
  if (last_seq > 0 && head_hash != last_hash) {
    return broken(last_seq, "record " + last +
                                ": hash differs from the one the store wrote (record replaced)");
  }
  return result;
}

}  // namespace

std::string auditHash(const AuditRecord& record) {
  const std::string seq = std::to_string(record.seq);
  const std::string_view fields[] = {"meshsim-audit-v1", record.prev_hash, seq,
                                     record.time,        record.user,      record.verb,
                                     record.kind,        record.resource,  record.outcome,
                                     record.reason,      record.diff};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return "";
  bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  for (const auto& field : fields) {
    // 8-byte big-endian length, then the bytes: no two field lists share an encoding.
    unsigned char length[8];
    uint64_t size = field.size();
    for (int i = 7; i >= 0; --i) {
      length[i] = static_cast<unsigned char>(size & 0xff);
      size >>= 8;
    }
    ok = ok && EVP_DigestUpdate(ctx, length, sizeof(length)) == 1;
    ok = ok && EVP_DigestUpdate(ctx, field.data(), field.size()) == 1;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, digest, &digest_size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(digest_size * 2);
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir,
                                                     Durability durability) {
  if (dir.empty()) return invalidArgument("state directory: empty path");
  std::error_code ec;
  const fs::path dir_path(dir);
  if (fs::exists(dir_path, ec)) {
    if (!fs::is_directory(dir_path, ec)) {
      return failedPrecondition("state directory " + dir + ": exists and is not a directory");
    }
  } else {
    fs::create_directories(dir_path, ec);
    if (ec) {
      return unavailable("state directory " + dir + ": cannot create it: " + ec.message());
    }
  }
  const std::string path = (dir_path / kDatabaseFile).string();
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Status s = sqliteError(path, "open", rc, db);
    sqlite3_close_v2(db);
    return s;
  }
  auto store = std::make_unique<SqliteStateStore>(db, path);
  if (Status s = store->initialise(durability); !s.ok()) return s;
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace meshsim::mgmt
