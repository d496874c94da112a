#pragma once
/// The configuration the desktop program currently shows, and the paths it came from.

#include <QObject>
#include <QStringList>

#include "app/config_view.h"

namespace meshsim::gui {

/// Owns the loaded configuration. Lives on the GUI thread; not thread-safe.
class ConfigSession : public QObject {
  Q_OBJECT

 public:
  /// An empty session (no paths, nothing loaded).
  explicit ConfigSession(QObject* parent = nullptr);

  /// Loads `paths` (files and directories), replacing the current configuration, then emits
  /// loaded(). Unreadable paths become diagnostics of the new configuration.
  void open(const QStringList& paths);
  /// Loads the current paths again, picking up edits made on disk. Does nothing (and emits
  /// nothing) when no paths were opened.
  void reload();

  /// The paths last opened; empty before the first open().
  const QStringList& paths() const { return view_.paths; }
  /// The configuration last loaded.
  const ConfigView& view() const { return view_; }

 signals:
  /// A load finished; view() holds its outcome.
  void loaded();

 private:
  ConfigView view_;
};

}  // namespace meshsim::gui
