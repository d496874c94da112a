#pragma once
/// The topology page: a search field, zoom buttons and the graph view (wheel zooms, drag pans,
/// double-click on a box collapses it, on a collapsed box expands it).

#include <QGraphicsView>
#include <QWidget>

class QLabel;
class QLineEdit;

namespace meshsim::gui {

class TopologyScene;

/// A QGraphicsView that zooms with the wheel and pans by dragging.
class TopologyGraphicsView : public QGraphicsView {
  Q_OBJECT

 public:
  /// A view of `scene` (not owned).
  explicit TopologyGraphicsView(TopologyScene* scene, QWidget* parent = nullptr);
  /// Multiplies the zoom by `factor`.
  void zoomBy(double factor);
  /// Fits the whole scene into the viewport.
  void fitAll();

 protected:
  void wheelEvent(QWheelEvent* event) override;
};

/// The page. Owns its scene. GUI thread only.
class TopologyPanel : public QWidget {
  Q_OBJECT

 public:
  explicit TopologyPanel(QWidget* parent = nullptr);

  TopologyScene* scene() const { return scene_; }
  TopologyGraphicsView* view() const { return view_; }
  QLineEdit* searchEdit() const { return search_; }
  /// Shows `text` under the toolbar (errors, legend, mesh state).
  void setMessage(const QString& text);

 private:
  TopologyScene* scene_;
  TopologyGraphicsView* view_;
  QLineEdit* search_;
  QLabel* message_;
};

}  // namespace meshsim::gui
