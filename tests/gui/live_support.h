#pragma once
// Shared by the meshsim-gui tests that run the live mesh: the real data plane
// (proxy::LoopbackDataPlane, given to the session as gui/main.cpp does), bounded waits for the
// engine thread (signals with a timeout, never sleeps), and the number of threads of this
// process (to check that stopping the mesh leaves none behind).
#include <gtest/gtest.h>

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStringList>
#include <QTest>
#include <memory>
#include <string>

#include "app/data_plane_hookup.h"
#include "app/mesh_session.h"
#include "meshsim/proxy/loopback_data_plane.h"

namespace meshsim::gui::testing {

/// A bound against hangs on the engine thread, not a timing assertion.
inline constexpr int kLiveTimeoutMs = 60000;

/// Makes the real loopback data plane, as gui/main.cpp's factory does.
inline dataplane::DataPlaneFactory loopbackFactory() {
  return [](const dataplane::DataPlaneOptions& o) -> std::unique_ptr<dataplane::DataPlane> {
    proxy::LoopbackOptions options;
    options.threads = o.threads;
    options.ingress = o.ingress;
    options.ingress_port = o.ingress_port;
    return std::make_unique<proxy::LoopbackDataPlane>(options);
  };
}

/// Gives `session` the real data plane.
inline void useLoopback(MeshSession& session) { setDataPlaneFactory(session, loopbackFactory()); }

/// Waits until `session` has no engine-thread job outstanding; false on timeout.
inline bool waitIdle(MeshSession& session) {
  if (!session.busy()) return true;
  QSignalSpy idle(&session, &MeshSession::idle);
  return idle.wait(kLiveTimeoutMs) || !session.busy();
}

/// Runs the next scenario step and waits for it; false when it could not be started or did not
/// finish in time.
inline bool stepAndWait(MeshSession& session) {
  if (!session.stepForward()) return false;
  return waitIdle(session);
}

/// Number of threads of this process (Linux: the entries of /proc/self/task).
inline int threadCount() {
  return static_cast<int>(
      QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size());
}

/// Waits until this process has at most `count` threads: a finished QThread leaves the task
/// list a moment after QThread::wait() returns (it is detached, not joined). Polls with
/// QTest::qWait up to kLiveTimeoutMs; false when more threads remain.
inline bool waitForThreads(int count) {
  QDeadlineTimer deadline(kLiveTimeoutMs);
  while (threadCount() > count && !deadline.hasExpired()) QTest::qWait(10);
  return threadCount() <= count;
}

/// The names of this process' threads, for failure messages.
inline std::string threadNames() {
  std::string out;
  const QDir tasks(QStringLiteral("/proc/self/task"));
  for (const QString& t : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    QFile comm(tasks.filePath(t + QStringLiteral("/comm")));
    if (comm.open(QIODevice::ReadOnly)) out += comm.readAll().trimmed().toStdString() + " ";
  }
  return out;
}

}  // namespace meshsim::gui::testing
