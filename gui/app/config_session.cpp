#include "app/config_session.h"

namespace meshsim::gui {

ConfigSession::ConfigSession(QObject* parent) : QObject(parent) {}

void ConfigSession::open(const QStringList& paths) {
  view_ = loadConfigView(paths);
  emit loaded();
}

void ConfigSession::reload() {
  if (view_.paths.isEmpty()) return;
  open(QStringList(view_.paths));
}

}  // namespace meshsim::gui
