#include "panels/mesh_panels.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>
#include <map>

#include "app/mesh_session.h"
#include "graph/topology_scene.h"
#include "models/audit_model.h"
#include "models/blast_model.h"
#include "models/metrics_model.h"

namespace meshsim::gui {

namespace {

QString duration(qint64 seconds) {
  if (seconds % 3600 == 0) return QStringLiteral("%1 h").arg(seconds / 3600);
  if (seconds % 60 == 0) return QStringLiteral("%1 min").arg(seconds / 60);
  return QStringLiteral("%1 s").arg(seconds);
}

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
  auto* table = new QTableView(parent);
  table->setModel(model);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setSelectionMode(QAbstractItemView::SingleSelection);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->verticalHeader()->hide();
  table->horizontalHeader()->setStretchLastSection(true);
  table->setAlternatingRowColors(true);
  return table;
}

}  // namespace

// ---------------------------------------------------------------- traffic

TrafficPanel::TrafficPanel(MeshSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* form = new QFormLayout(this);
  from_ = new QComboBox(this);
  to_ = new QComboBox(this);
  rate_ = new QSpinBox(this);
  rate_->setRange(1, 2000);
  rate_->setValue(50);
  rate_->setSuffix(QStringLiteral(" req/s"));
  form->addRow(QStringLiteral("From"), from_);
  form->addRow(QStringLiteral("To"), to_);
  form->addRow(QStringLiteral("Rate"), rate_);
  auto* buttons = new QHBoxLayout();
  start_mesh_ = new QPushButton(QStringLiteral("Start mesh"), this);
  run_ = new QPushButton(QStringLiteral("Run traffic"), this);
  run_->setCheckable(true);
  burst_ = new QPushButton(QStringLiteral("Send 1 s"), this);
  buttons->addWidget(start_mesh_);
  buttons->addWidget(run_);
  buttons->addWidget(burst_);
  form->addRow(buttons);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  form->addRow(status_);

  connect(start_mesh_, &QPushButton::clicked, this, [this] {
    if (session_->meshRunning()) {
      session_->stopMesh();
    } else {
      status_->setText(QStringLiteral("starting the mesh ..."));
      session_->startMesh();
    }
  });
  connect(run_, &QPushButton::toggled, this, [this](bool on) {
    if (on) {
      session_->startTraffic(from_->currentText(), to_->currentText(), rate_->value());
    } else {
      session_->stopTraffic();
    }
  });
  connect(burst_, &QPushButton::clicked, this, [this] {
    if (!session_->meshRunning()) session_->startMesh();
    session_->sendTraffic(from_->currentText(), to_->currentText(), rate_->value(),
                          std::max(1, rate_->value() / 50));
  });
  connect(session_, &MeshSession::meshStateChanged, this, [this](const QString& message) {
    status_->setText(message);
    start_mesh_->setText(session_->meshRunning() ? QStringLiteral("Stop mesh")
                                                 : QStringLiteral("Start mesh"));
    if (!session_->meshRunning()) run_->setChecked(false);
  });
  connect(session_, &MeshSession::trafficDone, this, [this](const TrafficReport& r) {
    status_->setText(r.error.isEmpty() && r.sent > 0
                         ? QStringLiteral("%1 → %2: %3 sent, %4 OK, p50 %5 ms; %6")
                               .arg(r.from, r.to)
                               .arg(r.sent)
                               .arg(r.ok)
                               .arg(r.p50_ms, 0, 'f', 2)
                               .arg(r.by_version.join(QStringLiteral(", ")))
                         : r.error);
  });
  refresh();
}

void TrafficPanel::refresh() {
  const QString from = from_->currentText(), to = to_->currentText();
  from_->clear();
  from_->addItems(session_->workloads());
  to_->clear();
  to_->addItems(session_->services());
  if (from_->findText(from) >= 0) from_->setCurrentText(from);
  if (to_->findText(to) >= 0) to_->setCurrentText(to);
  const bool usable = session_->canStartMesh() && from_->count() > 0;
  start_mesh_->setEnabled(usable);
  run_->setEnabled(usable);
  burst_->setEnabled(usable);
  if (!session_->canStartMesh()) status_->setText(QStringLiteral("This build has no data plane."));
}

// ---------------------------------------------------------------- blast radius

BlastPanel::BlastPanel(MeshSession* session, TopologyScene* scene, QWidget* parent)
    : QWidget(parent),
      session_(session),
      scene_(scene),
      model_(new BlastModel(this)),
      animation_(new QTimer(this)) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout();
  workload_ = new QComboBox(this);
  auto* compromise_button = new QPushButton(QStringLiteral("Compromise"), this);
  auto* play = new QPushButton(QStringLiteral("Hop by hop"), this);
  auto* clear_button = new QPushButton(QStringLiteral("Clear"), this);
  bar->addWidget(workload_, 1);
  bar->addWidget(compromise_button);
  bar->addWidget(play);
  bar->addWidget(clear_button);
  layout->addLayout(bar);
  window_ = new QLabel(this);
  window_->setWordWrap(true);
  layout->addWidget(window_);
  table_ = makeTable(model_, this);
  layout->addWidget(table_, 1);
  auto* verify = new QPushButton(QStringLiteral("Verify selected target live"), this);
  verify->setToolTip(QStringLiteral(
      "Present the stolen certificate to the selected workload through the real sidecars"));
  layout->addWidget(verify);
  verify_result_ = new QLabel(this);
  verify_result_->setWordWrap(true);
  layout->addWidget(verify_result_);

  animation_->setInterval(700);
  connect(compromise_button, &QPushButton::clicked, this,
          [this] { compromise(workload_->currentText()); });
  connect(clear_button, &QPushButton::clicked, this, &BlastPanel::clear);
  connect(play, &QPushButton::clicked, this, [this] {
    if (model_->blast().compromised != workload_->currentText() || model_->rowCount() == 0) {
      compromise(workload_->currentText());
    }
    showHops(0);
    animation_->start();
  });
  connect(animation_, &QTimer::timeout, this, [this] {
    int max_hops = 0;
    for (const BlastTarget& t : model_->blast().reached) max_hops = std::max(max_hops, t.hops);
    if (shown_hops_ >= max_hops) {
      animation_->stop();
      return;
    }
    showHops(shown_hops_ + 1);
  });
  connect(verify, &QPushButton::clicked, this, [this] {
    const QModelIndex row = table_->currentIndex();
    if (!row.isValid()) {
      verify_result_->setText(QStringLiteral("Select a reached workload first."));
      return;
    }
    const QString target = model_->index(row.row(), BlastModel::kWorkloadColumn).data().toString();
    verify_result_->setText(QStringLiteral("verifying ..."));
    session_->verifyCredential(model_->blast().compromised, target);
  });
  connect(session_, &MeshSession::verified, this, [this](const VerifyReport& r) {
    verify_result_->setText(
        r.error.isEmpty()
            ? QStringLiteral("%1 → %2: %3\n%4")
                  .arg(r.from, r.to,
                       r.agree ? QStringLiteral("prediction confirmed")
                               : QStringLiteral("PREDICTION DIFFERS"),
                       r.detail)
            : r.error);
  });
  refresh();
}

void BlastPanel::refresh() {
  const QString current = workload_->currentText();
  workload_->clear();
  workload_->addItems(session_->workloads());
  if (workload_->findText(current) >= 0) workload_->setCurrentText(current);
  // A new snapshot may change the radius: recompute the one shown.
  if (!model_->blast().compromised.isEmpty()) {
    const int hops = shown_hops_;
    model_->setBlast(session_->blastRadius(model_->blast().compromised));
    showHops(hops);
  }
}

void BlastPanel::compromise(const QString& workload) {
  animation_->stop();
  if (workload_->findText(workload) >= 0) workload_->setCurrentText(workload);
  model_->setBlast(session_->blastRadius(workload));
  showHops(-1);
}

void BlastPanel::clear() {
  animation_->stop();
  model_->setBlast({});
  shown_hops_ = -1;
  scene_->setBlast({});
  window_->clear();
}

void BlastPanel::showHops(int hops) {
  shown_hops_ = hops;
  const BlastView& b = model_->blast();
  scene_->setBlast(b, hops);
  if (!b.error.isEmpty()) {
    window_->setText(b.error);
    return;
  }
  if (b.compromised.isEmpty()) return;
  window_->setText(
      QStringLiteral("<b>%1</b> compromised%2: reaches %3 workloads, score %4.<br>"
                     "Stolen certificate usable for up to <b>%5</b> (rotation after %6 revokes "
                     "nothing).%7")
          .arg(b.compromised,
               b.identity.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(b.identity))
          .arg(b.reached.size())
          .arg(b.score, 0, 'f', 2)
          .arg(duration(b.credential_window_seconds), duration(b.rotation_after_seconds),
               hops >= 0 ? QStringLiteral(" Showing hop %1.").arg(hops) : QString()));
}

// ---------------------------------------------------------------- metrics

namespace {

QChartView* makeChart(const QString& title, QWidget* parent) {
  auto* chart = new QChart();
  chart->setTitle(title);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(2, 2, 2, 2));
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(150);
  return view;
}

void fillChart(QChartView* view, const QList<MetricsSample>& history,
               double (*value)(const VersionMetrics&), const QString& unit) {
  QChart* chart = view->chart();
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
  std::map<QString, QLineSeries*> series;
  double max_x = 1, max_y = 1;
  for (const MetricsSample& s : history) {
    for (const VersionMetrics& m : s.versions) {
      QLineSeries*& line = series[m.key()];
      if (line == nullptr) {
        line = new QLineSeries();
        line->setName(m.service.section('/', 1) + QLatin1Char(' ') + m.version);
      }
      const double y = value(m);
      line->append(s.seconds, y);
      max_x = std::max(max_x, s.seconds);
      max_y = std::max(max_y, y);
    }
  }
  auto* x = new QValueAxis();
  x->setRange(0, max_x);
  x->setTitleText(QStringLiteral("s"));
  x->setLabelFormat(QStringLiteral("%.0f"));
  auto* y = new QValueAxis();
  y->setRange(0, max_y * 1.15);
  y->setTitleText(unit);
  y->setLabelFormat(QStringLiteral("%.0f"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  for (auto& [key, line] : series) {
    // A single sample is a point: show it as a short flat line so that it is visible.
    if (line->count() == 1) line->append(line->at(0).x() + max_x * 0.02 + 0.01, line->at(0).y());
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
}

}  // namespace

MetricsPanel::MetricsPanel(MeshSession* session, QWidget* parent)
    : QWidget(parent), session_(session), model_(new MetricsModel(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* charts = new QHBoxLayout();
  rate_chart_ = makeChart(QStringLiteral("Request rate per version"), this);
  error_chart_ = makeChart(QStringLiteral("Error rate"), this);
  latency_chart_ = makeChart(QStringLiteral("Latency p90"), this);
  charts->addWidget(rate_chart_);
  charts->addWidget(error_chart_);
  charts->addWidget(latency_chart_);
  layout->addLayout(charts, 3);
  auto* table = makeTable(model_, this);
  layout->addWidget(table, 1);
  connect(session_, &MeshSession::metricsSampled, this, [this](const MetricsSample&) { refresh(); });
  refresh();
}

void MetricsPanel::refresh() {
  const QList<MetricsSample>& history = session_->metricsHistory();
  model_->setSample(history.isEmpty() ? MetricsSample{} : history.last());
  fillChart(static_cast<QChartView*>(rate_chart_), history,
            [](const VersionMetrics& m) { return m.rps; }, QStringLiteral("req/s"));
  fillChart(static_cast<QChartView*>(error_chart_), history,
            [](const VersionMetrics& m) {
              return m.requests == 0 ? 0.0 : 100.0 * static_cast<double>(m.errors) / m.requests;
            },
            QStringLiteral("% errors"));
  fillChart(static_cast<QChartView*>(latency_chart_), history,
            [](const VersionMetrics& m) { return m.p90_ms; }, QStringLiteral("ms"));
}

// ---------------------------------------------------------------- audit

AuditPanel::AuditPanel(MeshSession* session, QWidget* parent)
    : QWidget(parent), session_(session), model_(new AuditModel(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  auto* split = new QSplitter(Qt::Horizontal, this);
  table_ = makeTable(model_, split);
  diff_ = new QPlainTextEdit(split);
  diff_->setReadOnly(true);
  diff_->setPlaceholderText(QStringLiteral("Select a record to see its diff."));
  diff_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  split->addWidget(table_);
  split->addWidget(diff_);
  split->setSizes({700, 400});
  layout->addWidget(split);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            diff_->setPlainText(current.data(AuditModel::kDiffRole).toString());
          });
  connect(session_, &MeshSession::auditChanged, this, &AuditPanel::refresh);
  refresh();
}

void AuditPanel::refresh() {
  model_->setEntries(session_->audit());
  table_->resizeColumnsToContents();
  if (model_->rowCount() > 0) table_->scrollToBottom();
}

// ---------------------------------------------------------------- player

PlayerPanel::PlayerPanel(MeshSession* session, QWidget* parent)
    : QWidget(parent), session_(session) {
  auto* layout = new QVBoxLayout(this);
  description_ = new QLabel(this);
  description_->setWordWrap(true);
  layout->addWidget(description_);
  steps_ = new QListWidget(this);
  layout->addWidget(steps_, 1);
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  note_->setStyleSheet(
      QStringLiteral("background: #fffde7; border: 1px solid #f9a825; padding: 6px;"));
  layout->addWidget(note_);
  auto* buttons = new QHBoxLayout();
  back_ = new QPushButton(QStringLiteral("◀ Back"), this);
  forward_ = new QPushButton(QStringLiteral("Step ▶"), this);
  buttons->addWidget(back_);
  buttons->addWidget(forward_);
  layout->addLayout(buttons);
  connect(back_, &QPushButton::clicked, session_, &MeshSession::stepBack);
  connect(forward_, &QPushButton::clicked, session_, &MeshSession::stepForward);
  connect(session_, &MeshSession::scenarioChanged, this, &PlayerPanel::refresh);
  connect(session_, &MeshSession::stepped, this, &PlayerPanel::refresh);
  refresh();
}

void PlayerPanel::refresh() {
  const QList<StepView>& steps = session_->steps();
  description_->setText(steps.isEmpty() ? QStringLiteral("Open a scenario to play its steps.")
                                        : session_->scenarioDescription());
  if (steps_->count() != steps.size()) {
    steps_->clear();
    for (int i = 0; i < steps.size(); ++i) {
      const StepView& s = steps[i];
      auto* item = new QListWidgetItem(
          QStringLiteral("%1. %2").arg(i + 1).arg(s.kind == QLatin1String("note")
                                                      ? QStringLiteral("note: ") + s.note.left(60)
                                                      : s.title));
      item->setToolTip(s.note.isEmpty() ? s.title : s.note);
      steps_->addItem(item);
    }
  }
  const int done = session_->stepsDone();
  for (int i = 0; i < steps_->count(); ++i) {
    QFont f = steps_->item(i)->font();
    f.setBold(i == done - 1);
    steps_->item(i)->setFont(f);
    steps_->item(i)->setForeground(i < done ? QColor(0xff263238) : QColor(0xff90a4ae));
  }
  if (done > 0) steps_->setCurrentRow(done - 1);
  QString note;
  if (done > 0) {
    const StepView& s = steps[done - 1];
    note = QStringLiteral("<b>Step %1 of %2</b> (%3)<br>%4")
               .arg(done)
               .arg(steps.size())
               .arg(s.title.toHtmlEscaped(), session_->stepMessage().toHtmlEscaped());
  } else if (!steps.isEmpty()) {
    note = QStringLiteral("%1 steps. Press Step to begin.").arg(steps.size());
  }
  note_->setText(note);
  note_->setVisible(!note.isEmpty());
  back_->setEnabled(done > 0);
  forward_->setEnabled(done < steps.size());
}

}  // namespace meshsim::gui
