#include "panels/diagnostics_view.h"

#include <QHeaderView>
#include <QStyledItemDelegate>

#include "models/diagnostics_model.h"
#include "panels/empty_state.h"

namespace meshsim::gui {

namespace {

// "…/bookinfo/mesh/bookinfo.yaml:12:3" reads better than "/work/main/scenarios/bo…".
class ElideLeftDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override {
    QStyledItemDelegate::initStyleOption(option, index);
    option->textElideMode = Qt::ElideLeft;
  }
};

}  // namespace

DiagnosticsView::DiagnosticsView(QWidget* parent) : QTableView(parent) {
  setSelectionBehavior(QAbstractItemView::SelectRows);
  setSelectionMode(QAbstractItemView::SingleSelection);
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  setAlternatingRowColors(true);
  setWordWrap(false);
  setShowGrid(false);
  setItemDelegateForColumn(DiagnosticsModel::kLocationColumn, new ElideLeftDelegate(this));
  verticalHeader()->setVisible(false);
  verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  horizontalHeader()->setStretchLastSection(true);
  horizontalHeader()->setHighlightSections(false);
}

void DiagnosticsView::setPlaceholderText(const QString& text) {
  placeholder_ = text;
  viewport()->update();
}

void DiagnosticsView::paintEvent(QPaintEvent* event) {
  QTableView::paintEvent(event);
  drawEmptyState(this, placeholder_);
}

}  // namespace meshsim::gui
