#include "panels/mesh_panels.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
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
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>
#include <map>
#include <optional>

#include "app/mesh_session.h"
#include "graph/topology_scene.h"
#include "models/audit_model.h"
#include "models/blast_model.h"
#include "models/metrics_model.h"

namespace meshsim::gui {

namespace {

QString duration(qint64 seconds) {
  if (seconds % 3600 == 0) return QStringLiteral("%1 h").arg(seconds / 3600);
  if (seconds >= 3600) {
    return QStringLiteral("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
  }
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
  burst_ = new QPushButton(QStringLiteral("Send burst"), this);
  burst_->setToolTip(QStringLiteral("Send one second's worth of requests (the rate) at once"));
  run_->setToolTip(QStringLiteral("Send the rate every second until pressed again"));
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
    refresh();
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
  // Refill a box only when its choices changed, so that an open list or a choice survives.
  auto fill = [](QComboBox* box, const QStringList& items) {
    QStringList shown;
    for (int i = 0; i < box->count(); ++i) shown.append(box->itemText(i));
    if (shown == items) return;
    const QString current = box->currentText();
    box->clear();
    box->addItems(items);
    if (box->findText(current) >= 0) box->setCurrentText(current);
  };
  fill(from_, session_->workloads());
  fill(to_, session_->services());
  const bool usable = session_->canStartMesh() && from_->count() > 0;
  start_mesh_->setEnabled(usable);
  start_mesh_->setText(session_->meshRunning() ? QStringLiteral("Stop mesh")
                                               : QStringLiteral("Start mesh"));
  run_->setEnabled(usable);
  burst_->setEnabled(usable);
  if (!session_->trafficRunning() && run_->isChecked()) {
    const QSignalBlocker quiet(run_);
    run_->setChecked(false);
  }
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
  verify_ = new QPushButton(QStringLiteral("Verify live"), this);
  verify_->setToolTip(QStringLiteral(
      "Attack for real: with the compromised workload's genuine certificate (and, hop by hop, "
      "those of every workload it reaches) try every workload port of the running mesh, plus a "
      "plaintext outsider and a forged certificate, and compare with the prediction"));
  layout->addWidget(verify_);
  verify_result_ = new QLabel(this);
  verify_result_->setWordWrap(true);
  verify_result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
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
  connect(verify_, &QPushButton::clicked, this, [this] {
    const QString workload = model_->blast().compromised.isEmpty() ? workload_->currentText()
                                                                   : model_->blast().compromised;
    if (workload.isEmpty()) {
      verify_result_->setText(QStringLiteral("Choose a workload to compromise first."));
      return;
    }
    if (model_->blast().compromised != workload) compromise(workload);
    verify_result_->setText(
        QStringLiteral("Attacking from %1 on the live mesh ...").arg(workload.toHtmlEscaped()));
    verify_->setEnabled(false);
    session_->verifyBlastRadius(workload);
  });
  connect(session_, &MeshSession::blastVerified, this, &BlastPanel::showVerification);
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

void BlastPanel::showVerification(const BlastVerifyReport& r) {
  verify_->setEnabled(true);
  if (!r.error.isEmpty()) {
    verify_result_->setText(QStringLiteral("Verify live: %1").arg(r.error.toHtmlEscaped()));
    return;
  }
  QString text = QStringLiteral("<b>%1</b> attacking from %2: ")
                     .arg(r.summary().toHtmlEscaped(), r.compromised.toHtmlEscaped());
  if (r.agree) {
    text += QStringLiteral(
                "the mesh refused and allowed exactly what the analysis predicted; "
                "reached %1.")
                .arg(r.observed_reached.join(QStringLiteral(", ")).toHtmlEscaped());
  } else {
    text += QStringLiteral(
                "<span style='color:#c62828'>the prediction and the proxies "
                "differ</span>: observed reached %1; predicted %2.")
                .arg(r.observed_reached.join(QStringLiteral(", ")).toHtmlEscaped(),
                     r.predicted_reached.join(QStringLiteral(", ")).toHtmlEscaped());
  }
  int shown = 0;
  for (const ProbeView& p : r.probes) {
    if (p.agree) continue;
    if (++shown > 8) {
      text += QStringLiteral("<br>... and %1 more").arg(r.disagreements - 8);
      break;
    }
    text += QStringLiteral("<br>%1 → %2 %3 (%4): predicted %5, observed %6 (%7)")
                .arg(p.from.toHtmlEscaped(), p.to.toHtmlEscaped(), p.request.toHtmlEscaped(),
                     p.transport.toHtmlEscaped(),
                     p.predicted_allowed ? QStringLiteral("allowed") : QStringLiteral("refused"),
                     p.observed_status == 0 ? QStringLiteral("reset")
                                            : QString::number(p.observed_status),
                     (p.observed_error.isEmpty() ? p.basis : p.observed_error).toHtmlEscaped());
  }
  const CredentialView& c = r.credential;
  if (!c.spiffe_id.isEmpty()) {
    auto when = [](qint64 t) {
      return QDateTime::fromSecsSinceEpoch(t, Qt::UTC)
          .toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
    };
    text += QStringLiteral(
                "<br>Stolen certificate (serial %1…): valid %2 – %3, still usable for "
                "<b>%4</b> at simulated %5; the agent renews it at %6, which revokes "
                "nothing.")
                .arg(c.serial.left(12), when(c.not_before), when(c.not_after),
                     duration(c.remainingSeconds()), when(c.now), when(c.rotation_at));
  }
  verify_result_->setText(text);
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
  table_->resizeColumnsToContents();
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

// A chart; only the first one of the panel shows the legend (a version has the same colour in
// every chart), so the others keep their width for the plot.
QChartView* makeChart(const QString& title, bool legend, QWidget* parent) {
  auto* chart = new QChart();
  chart->setTitle(title);
  chart->legend()->setVisible(legend);
  chart->legend()->setAlignment(Qt::AlignRight);
  chart->setMargins(QMargins(2, 2, 2, 2));
  chart->setBackgroundRoundness(0);
  QFont small = chart->titleFont();
  small.setPointSizeF(small.pointSizeF() * 0.85);
  chart->legend()->setFont(small);
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(150);
  return view;
}

// One line per Service version over the whole history. `value` returns nullopt for a sample
// that measured nothing of that kind (latency and error rate of a window without requests).
void fillChart(QChartView* view, const QList<MetricsSample>& history,
               std::optional<double> (*value)(const VersionMetrics&), const QString& unit) {
  QChart* chart = view->chart();
  chart->removeAllSeries();
  for (QAbstractAxis* axis : chart->axes()) {
    chart->removeAxis(axis);
    delete axis;
  }
  std::map<QString, QLineSeries*> series;
  double min_x = history.isEmpty() ? 0 : history.first().seconds;
  double max_x = min_x, max_y = 0;
  for (const MetricsSample& s : history) {
    for (const VersionMetrics& m : s.versions) {
      QLineSeries*& line = series[m.key()];
      if (line == nullptr) {
        line = new QLineSeries();
        line->setName(m.service.section('/', 1) + QLatin1Char(' ') + m.version);
        line->setPointsVisible(true);
        line->setMarkerSize(5);
      }
      const std::optional<double> y = value(m);
      if (!y) continue;
      line->append(s.seconds, *y);
      min_x = std::min(min_x, s.seconds);
      max_x = std::max(max_x, s.seconds);
      max_y = std::max(max_y, *y);
    }
  }
  auto* x = new QValueAxis();
  x->setRange(min_x, std::max(max_x, min_x + 1.0));
  x->setTitleText(QStringLiteral("time (s)"));
  x->setLabelFormat(QStringLiteral("%.1f"));
  x->setTickCount(5);
  auto* y = new QValueAxis();
  y->setRange(0, max_y > 0 ? max_y * 1.1 : 1.0);
  y->applyNiceNumbers();
  y->setTitleText(unit);
  y->setLabelFormat(y->max() > 10 ? QStringLiteral("%.0f") : QStringLiteral("%.1f"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  size_t index = 0;
  for (auto& [key, line] : series) {
    QPen pen(QColor::fromRgb(kSeriesColours[index++ % std::size(kSeriesColours)]));
    pen.setWidthF(2.0);
    line->setPen(pen);
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
}

}  // namespace

MetricsPanel::MetricsPanel(MeshSession* session, QWidget* parent)
    : QWidget(parent), session_(session), model_(new MetricsModel(this)) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  rate_chart_ = makeChart(QStringLiteral("Request rate per version"), true, this);
  error_chart_ = makeChart(QStringLiteral("Error rate (5xx and resets)"), false, this);
  latency_chart_ = makeChart(QStringLiteral("Latency p90"), false, this);
  auto* table = makeTable(model_, this);
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(rate_chart_);
  split->addWidget(error_chart_);
  split->addWidget(latency_chart_);
  split->addWidget(table);
  split->setSizes({400, 290, 290, 320});
  layout->addWidget(split);
  connect(session_, &MeshSession::metricsSampled, this,
          [this](const MetricsSample&) { refresh(); });
  connect(session_, &MeshSession::meshStateChanged, this, [this](const QString&) { refresh(); });
  refresh();
}

void MetricsPanel::refresh() {
  const QList<MetricsSample>& history = session_->metricsHistory();
  model_->setSample(history.isEmpty() ? MetricsSample{} : history.last());
  fillChart(
      rate_chart_, history, [](const VersionMetrics& m) -> std::optional<double> { return m.rps; },
      QStringLiteral("req/s"));
  fillChart(
      error_chart_, history,
      [](const VersionMetrics& m) -> std::optional<double> {
        if (m.window_requests == 0) return std::nullopt;
        return m.error_rate;
      },
      QStringLiteral("% errors"));
  fillChart(
      latency_chart_, history,
      [](const VersionMetrics& m) -> std::optional<double> {
        if (m.window_requests == 0) return std::nullopt;
        return m.p90_ms;
      },
      QStringLiteral("ms"));
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
  steps_->setTextElideMode(Qt::ElideRight);
  layout->addWidget(steps_, 1);
  note_ = new QLabel(this);
  note_->setWordWrap(true);
  note_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  note_->setStyleSheet(
      QStringLiteral("background: #fffde7; border: 1px solid #f9a825; padding: 6px;"));
  layout->addWidget(note_);
  progress_ = new QLabel(this);
  progress_->setStyleSheet(QStringLiteral("color: #546e7a;"));
  layout->addWidget(progress_);
  auto* buttons = new QHBoxLayout();
  back_ = new QPushButton(QStringLiteral("◀ Back"), this);
  back_->setToolTip(QStringLiteral("Replays the scenario from the start up to the previous step"));
  forward_ = new QPushButton(QStringLiteral("Step ▶"), this);
  forward_->setToolTip(QStringLiteral("Runs the next step on the live mesh"));
  buttons->addWidget(back_);
  buttons->addWidget(forward_);
  layout->addLayout(buttons);
  connect(back_, &QPushButton::clicked, session_, &MeshSession::stepBack);
  connect(forward_, &QPushButton::clicked, session_, &MeshSession::stepForward);
  connect(session_, &MeshSession::scenarioChanged, this, &PlayerPanel::refresh);
  connect(session_, &MeshSession::stepped, this, &PlayerPanel::refresh);
  connect(session_, &MeshSession::stepProgress, this, [this](const QString& what) {
    progress_->setText(what);
    progress_->setVisible(true);
    back_->setEnabled(false);
    forward_->setEnabled(false);
  });
  refresh();
}

void PlayerPanel::refresh() {
  const QList<StepView>& steps = session_->steps();
  description_->setText(steps.isEmpty() ? QStringLiteral("Open a scenario to play its steps.")
                                        : session_->scenarioDescription());
  if (steps_->count() != steps.size()) steps_->clear();
  for (int i = 0; i < steps.size(); ++i) {
    const StepView& s = steps[i];
    if (i >= steps_->count()) steps_->addItem(new QListWidgetItem());
    QListWidgetItem* item = steps_->item(i);
    const QString what =
        s.kind == QLatin1String("note") ? QStringLiteral("note: ") + s.note : s.title;
    const QString mark = !s.played  ? QStringLiteral("   ")
                         : s.passed ? QStringLiteral("✓ ")
                                    : QStringLiteral("✗ ");
    item->setText(QStringLiteral("%1%2. %3").arg(mark).arg(i + 1).arg(what));
    QStringList tip;
    if (!s.note.isEmpty()) tip.append(s.note);
    if (s.kind != QLatin1String("note")) tip.append(s.title);
    if (s.played) {
      tip.append(s.outcome);
      if (!s.error.isEmpty()) tip.append(QStringLiteral("FAILED: ") + s.error);
      tip.append(s.details);
    }
    item->setToolTip(tip.join(QLatin1Char('\n')));
    QFont f = item->font();
    f.setBold(i == session_->stepsDone() - 1);
    item->setFont(f);
    item->setForeground(!s.played  ? QColor(0xff90a4ae)
                        : s.passed ? QColor(0xff2e7d32)
                                   : QColor(0xffc62828));
  }
  const int done = session_->stepsDone();
  if (done > 0) steps_->setCurrentRow(done - 1);
  QString note;
  if (done > 0 && done <= steps.size()) {
    const StepView& s = steps[done - 1];
    note = QStringLiteral("<b>Step %1 of %2</b>").arg(done).arg(steps.size());
    if (!s.note.isEmpty()) note += QStringLiteral("<br>") + s.note.toHtmlEscaped();
    if (s.kind != QLatin1String("note")) {
      note += QStringLiteral("<br><i>%1</i>").arg(s.title.toHtmlEscaped());
    }
    if (s.played && s.kind != QLatin1String("note")) {
      note += QStringLiteral("<br><span style='color:%1'>%2 %3</span>")
                  .arg(s.passed ? QStringLiteral("#2e7d32") : QStringLiteral("#c62828"),
                       s.passed ? QStringLiteral("✓") : QStringLiteral("✗"),
                       (s.passed ? s.outcome : s.error).toHtmlEscaped());
      for (const QString& d : s.details.mid(0, 6))
        note += QStringLiteral("<br>") + d.toHtmlEscaped();
    }
  } else if (!session_->stepMessage().isEmpty()) {
    note = session_->stepMessage().toHtmlEscaped();
  } else if (!steps.isEmpty()) {
    note = QStringLiteral("%1 steps. Press Step to run the first one on the live mesh.")
               .arg(steps.size());
  }
  note_->setText(note);
  note_->setVisible(!note.isEmpty());
  // Progress shows only while a step runs; the note says what the last one did.
  if (!session_->stepping()) progress_->clear();
  progress_->setVisible(session_->stepping());
  back_->setEnabled(done > 0 && !session_->stepping() && session_->canStartMesh());
  forward_->setEnabled(done < steps.size() && !session_->stepping());
}

}  // namespace meshsim::gui
