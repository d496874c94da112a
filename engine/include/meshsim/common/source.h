#pragma once
/// Where a piece of configuration came from, and diagnostics that point there.

#include <cstdint>
#include <string>
#include <vector>

namespace meshsim {

/// A position in an input file. Lines and columns are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;  ///< path as given by the user, or "<stdin>"
  uint32_t line = 0;
  uint32_t column = 0;

  bool known() const { return line != 0; }
  /// "file:line:col", or just "file" when the position is unknown.
  std::string toString() const;
  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

enum class Severity { kError, kWarning };

/// One finding about the input: `file:line:col: error: <field path>: <message>`.
struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation where;
  std::string field;    ///< dotted field path, e.g. "spec.rules[0].from"; may be empty
  std::string message;  ///< what is wrong, and how to fix it when we can tell

  /// The one-line form used by every command.
  std::string toString() const;
};

/// Collects diagnostics in the order they were found.
class Diagnostics {
 public:
  void error(SourceLocation where, std::string field, std::string message);
  void warning(SourceLocation where, std::string field, std::string message);
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  void append(const Diagnostics& other);

  const std::vector<Diagnostic>& items() const { return items_; }
  size_t errorCount() const;
  size_t warningCount() const;
  bool hasErrors() const { return errorCount() > 0; }

  /// Stable order for output: by file, line, column, then insertion order.
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace meshsim
