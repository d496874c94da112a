#include "app/config_view.h"

#include <string>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/config/validate.h"
#include "meshsim/model/resource.h"

namespace meshsim::gui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

SourceRef toRef(const SourceLocation& where) {
  return {qs(where.file), static_cast<int>(where.line), static_cast<int>(where.column)};
}

KeyValueList toList(const model::StringMap& map) {
  KeyValueList out;
  out.reserve(static_cast<qsizetype>(map.size()));
  for (const auto& [key, value] : map) out.append({qs(key), qs(value)});
  return out;
}

ResourceInfo toInfo(const model::Resource& resource) {
  const model::ObjectMeta& meta = model::metaOf(resource);
  ResourceInfo info;
  info.kind = qs(meta.kind);
  info.api_version = qs(meta.api_version);
  info.name = qs(meta.name);
  info.scope = qs(model::keyOf(resource).scope);
  info.namespace_ = qs(meta.namespace_);
  info.organization = qs(meta.organization);
  info.tenant = qs(meta.tenant);
  info.workspace = qs(meta.workspace);
  info.group = qs(meta.group);
  info.labels = toList(meta.labels);
  info.annotations = toList(meta.annotations);
  if (meta.creation_timestamp) info.creation_timestamp = qs(*meta.creation_timestamp);
  info.source = toRef(meta.source);
  return info;
}

QString plural(int n, const char* singular, const char* many) {
  return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? singular : many));
}

}  // namespace

QString SourceRef::toString() const {
  if (!known()) return file;
  if (column <= 0) return QStringLiteral("%1:%2").arg(file).arg(line);
  return QStringLiteral("%1:%2:%3").arg(file).arg(line).arg(column);
}

QString ResourceInfo::key() const {
  if (scope.isEmpty()) return kind + QLatin1Char(' ') + name;
  return kind + QLatin1Char(' ') + scope + QLatin1Char('/') + name;
}

int ConfigView::resourceCount() const {
  int n = 0;
  for (const auto& group : kinds) n += static_cast<int>(group.resources.size());
  return n;
}

int ConfigView::errorCount() const {
  int n = 0;
  for (const auto& d : diagnostics) n += d.severity == DiagnosticSeverity::kError ? 1 : 0;
  return n;
}

int ConfigView::warningCount() const {
  int n = 0;
  for (const auto& d : diagnostics) n += d.severity == DiagnosticSeverity::kWarning ? 1 : 0;
  return n;
}

ConfigView loadConfigView(const QStringList& paths) {
  std::vector<std::string> std_paths;
  std_paths.reserve(static_cast<size_t>(paths.size()));
  for (const QString& p : paths) std_paths.push_back(p.toStdString());

  config::LoadResult loaded = config::loadConfiguration(std_paths);

  ConfigView view;
  view.paths = paths;
  for (const auto& f : loaded.files) view.files.append(qs(f));
  for (const auto& u : loaded.unreadable) view.unreadable.append(qs(u));
  for (const Diagnostic& d : loaded.diagnostics.items()) {
    view.diagnostics.append(
        {d.severity == Severity::kError ? DiagnosticSeverity::kError : DiagnosticSeverity::kWarning,
         toRef(d.where), qs(d.field), qs(d.message), qs(d.toString())});
  }

  // The snapshot orders resources by kind, scope and name, and counts them per kind in the same
  // order, so each kind's resources are one contiguous run.
  std::shared_ptr<const config::Snapshot> snapshot =
      config::makeSnapshot(std::move(loaded.resources));
  size_t next = 0;
  for (const auto& [kind, count] : snapshot->countsByKind()) {
    KindGroup group;
    group.kind = qs(kind);
    group.resources.reserve(static_cast<qsizetype>(count));
    for (size_t i = 0; i < count && next < snapshot->resources.size(); ++i, ++next) {
      group.resources.append(toInfo(snapshot->resources[next]));
    }
    view.kinds.append(std::move(group));
  }
  return view;
}

QString summaryText(const ConfigView& view) {
  return QStringLiteral("%1, %2, %3")
      .arg(plural(view.resourceCount(), "resource", "resources"),
           plural(view.errorCount(), "error", "errors"),
           plural(view.warningCount(), "warning", "warnings"));
}

}  // namespace meshsim::gui
