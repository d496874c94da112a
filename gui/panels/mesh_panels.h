#pragma once
/// The side panels of the live mesh: traffic, blast radius, metrics charts, audit log and the
/// scenario player. Each reads a MeshSession (not owned) and shows its values; none keeps state
/// beyond what is on screen.

#include <QWidget>

#include "app/mesh_view.h"

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

/// Compromise a workload: its blast radius hop by hop, the credential window, live verification.
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

 private:
  void showHops(int hops);
  MeshSession* session_;
  TopologyScene* scene_;
  QComboBox* workload_;
  QLabel* window_;
  QLabel* verify_result_;
  BlastModel* model_;
  QTableView* table_;
  QTimer* animation_;
  int shown_hops_ = -1;
};

/// Per-version request rate, error rate and latency charts, and the latest figures.
class MetricsPanel : public QWidget {
  Q_OBJECT

 public:
  MetricsPanel(MeshSession* session, QWidget* parent = nullptr);
  /// Redraws the charts from the session's history.
  void refresh();
  MetricsModel* model() const { return model_; }

 private:
  MeshSession* session_;
  MetricsModel* model_;
  QWidget* rate_chart_;
  QWidget* error_chart_;
  QWidget* latency_chart_;
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

/// Step forward and back through a scenario's steps with their notes.
class PlayerPanel : public QWidget {
  Q_OBJECT

 public:
  PlayerPanel(MeshSession* session, QWidget* parent = nullptr);
  void refresh();
  QListWidget* stepList() const { return steps_; }
  QLabel* noteLabel() const { return note_; }

 private:
  MeshSession* session_;
  QLabel* description_;
  QListWidget* steps_;
  QLabel* note_;
  QPushButton* back_;
  QPushButton* forward_;
};

}  // namespace meshsim::gui
