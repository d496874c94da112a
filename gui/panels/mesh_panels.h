#pragma once
/// The side panels of the live mesh: traffic, blast radius, metrics charts, audit log and the
/// scenario player. Each reads a MeshSession (not owned) and shows its values; none keeps state
/// beyond what is on screen.

#include <QColor>
#include <QWidget>

#include "app/mesh_view.h"

class QChartView;
class QComboBox;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QTextBrowser;
class QTimer;

namespace meshsim::gui {

/// Line colours of the metrics charts, by the position of the series' "service version" key in
/// sorted order (so a version has the same colour in every chart); for tests that sample pixels.
inline constexpr QRgb kSeriesColours[] = {0xff1e88e5, 0xffe53935, 0xff43a047, 0xfffb8c00,
                                          0xff8e24aa, 0xff00897b, 0xff6d4c41, 0xff3949ab};

class AuditModel;
class BlastModel;
class MeshSession;
class MetricsModel;
class TopologyScene;

/// Start the mesh and send traffic: from, to, rate.
class TrafficPanel : public QWidget {
  Q_OBJECT

 public:
  TrafficPanel(MeshSession* session, QWidget* parent = nullptr);
  /// Fills the workload and Service boxes from the session.
  void refresh();
  QComboBox* fromBox() const { return from_; }
  QComboBox* toBox() const { return to_; }
  QSpinBox* rateBox() const { return rate_; }
  QLabel* statusLabel() const { return status_; }
  QPushButton* startButton() const { return start_mesh_; }
  QPushButton* runButton() const { return run_; }
  QPushButton* burstButton() const { return burst_; }

 private:
  MeshSession* session_;
  QComboBox* from_;
  QComboBox* to_;
  QSpinBox* rate_;
  QPushButton* start_mesh_;
  QPushButton* run_;
  QPushButton* burst_;
  QLabel* status_;
};

/// Compromise a workload: its blast radius hop by hop, the credential window, and "Verify
/// live", which attacks the predicted radius for real on the running mesh.
class BlastPanel : public QWidget {
  Q_OBJECT

 public:
  BlastPanel(MeshSession* session, TopologyScene* scene, QWidget* parent = nullptr);
  void refresh();
  /// Compromises `workload` and shows every ring at once.
  void compromise(const QString& workload);
  /// Clears the overlay.
  void clear();
  QComboBox* workloadBox() const { return workload_; }
  BlastModel* model() const { return model_; }
  QLabel* windowLabel() const { return window_; }
  QPushButton* verifyButton() const { return verify_; }
  /// The outcome of the last verification ("N probes, all agree", the disagreements and the
  /// stolen certificate's time window).
  QLabel* verifyLabel() const { return verify_result_; }

 private:
  void showHops(int hops);
  void showVerification(const BlastVerifyReport& report);
  MeshSession* session_;
  TopologyScene* scene_;
  QComboBox* workload_;
  QLabel* window_;
  QPushButton* verify_;
  QLabel* verify_result_;
  BlastModel* model_;
  QTableView* table_;
  QTimer* animation_;
  int shown_hops_ = -1;
};

/// Per-version request rate, error rate and latency charts (Qt Charts, one line per Service
/// version), and the latest figures as a table.
class MetricsPanel : public QWidget {
  Q_OBJECT

 public:
  MetricsPanel(MeshSession* session, QWidget* parent = nullptr);
  /// Redraws the charts from the session's history.
  void refresh();
  MetricsModel* model() const { return model_; }
  /// The three chart views: request rate, error rate, latency p90.
  QChartView* rateChart() const { return rate_chart_; }
  QChartView* errorChart() const { return error_chart_; }
  QChartView* latencyChart() const { return latency_chart_; }

 private:
  MeshSession* session_;
  MetricsModel* model_;
  QChartView* rate_chart_;
  QChartView* error_chart_;
  QChartView* latency_chart_;
};

/// Who changed what, when, accepted or refused, with the diff.
class AuditPanel : public QWidget {
  Q_OBJECT

 public:
  AuditPanel(MeshSession* session, QWidget* parent = nullptr);
  void refresh();
  AuditModel* model() const { return model_; }
  QPlainTextEdit* diffView() const { return diff_; }

 private:
  MeshSession* session_;
  AuditModel* model_;
  QTableView* table_;
  QPlainTextEdit* diff_;
};

/// Step forward and back through a scenario's steps with their notes; each played step shows
/// whether it passed (expected errors, assertions) and what it did.
class PlayerPanel : public QWidget {
  Q_OBJECT

 public:
  PlayerPanel(MeshSession* session, QWidget* parent = nullptr);
  void refresh();
  QListWidget* stepList() const { return steps_; }
  QLabel* noteLabel() const { return note_; }
  QLabel* progressLabel() const { return progress_; }
  QPushButton* backButton() const { return back_; }
  QPushButton* forwardButton() const { return forward_; }

 private:
  MeshSession* session_;
  QLabel* description_;
  QListWidget* steps_;
  QLabel* note_;
  QLabel* progress_;
  QPushButton* back_;
  QPushButton* forward_;
};

}  // namespace meshsim::gui
