#pragma once
/// The topology as a QGraphicsScene: boxes for clusters, tenants, workspaces and namespaces,
/// workload nodes, and edges with their split, live rate, a padlock for mutual TLS and red for
/// refusals. Items mirror the latest TopologyView by id and own no state of their own; the
/// scene keeps only view state (collapsed boxes, search text, the blast radius shown).

#include <QGraphicsScene>
#include <QHash>
#include <QSet>
#include <QString>

#include "app/mesh_view.h"

namespace meshsim::gui {

/// Roles of QGraphicsItem::data() on the scene's items.
enum TopologyItemData {
  kItemIdData = 0,    ///< QString: node id, edge key ("from -> to") or group id
  kItemKindData = 1,  ///< QString: "node", "edge", "group" or "edge-label"
};

/// Colours the scene uses, for tests that sample pixels.
inline constexpr QRgb kRefusedEdgeColour = 0xffd32f2f;
inline constexpr QRgb kAllowedEdgeColour = 0xff607d8b;
inline constexpr QRgb kBlastEdgeColour = 0xffef6c00;

/// The scene. GUI thread only.
class TopologyScene : public QGraphicsScene {
  Q_OBJECT

 public:
  /// An empty scene.
  explicit TopologyScene(QObject* parent = nullptr);

  /// Shows `topology`. When its nodes, boxes and edges are those already shown, only the edge
  /// figures and colours change (no new layout); otherwise the scene is laid out again.
  void setTopology(const TopologyView& topology);
  /// The topology shown.
  const TopologyView& topology() const { return topology_; }
  /// Why the last layout failed ("" when it worked).
  const QString& layoutError() const { return layout_error_; }

  /// Collapses box `group` (and everything in it) into one node, or expands it again.
  void setCollapsed(const QString& group, bool collapsed);
  bool isCollapsed(const QString& group) const { return collapsed_.contains(group); }
  /// Highlights nodes whose id contains `text` (case-insensitive) and dims the others; empty
  /// clears. Returns the number of matches.
  int setSearch(const QString& text);
  /// Lights up `blast` up to `hops` rings (0: only the compromised workload); a negative `hops`
  /// shows every ring. An empty BlastView clears the overlay.
  void setBlast(const BlastView& blast, int hops = -1);
  const BlastView& blast() const { return blast_; }

  /// Items by id (nullptr when absent or hidden by a collapsed box).
  QGraphicsItem* nodeItem(const QString& id) const { return nodes_.value(id); }
  QGraphicsItem* edgeItem(const QString& key) const { return edges_.value(key); }
  QGraphicsItem* groupItem(const QString& id) const { return groups_.value(id); }
  /// Ids of the nodes shown (collapsed boxes appear as "group:<id>").
  QStringList nodeIds() const { return nodes_.keys(); }
  /// The label text shown next to edge `key` ("" when absent).
  QString edgeLabel(const QString& key) const;
  /// Whether node `id` is highlighted by the search or the blast radius.
  bool isHighlighted(const QString& id) const;

 signals:
  /// A node was clicked (workload id).
  void nodeActivated(const QString& id);

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
  void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) override;

 private:
  QString structureKey(const TopologyView& topology) const;
  void relayout();
  void restyle();

  TopologyView topology_;
  QString structure_;
  QString layout_error_;
  QSet<QString> collapsed_;
  QString search_;
  BlastView blast_;
  int blast_hops_ = -1;
  QHash<QString, QGraphicsItem*> nodes_;
  QHash<QString, QGraphicsItem*> edges_;
  QHash<QString, QGraphicsItem*> groups_;
  QHash<QString, QString> node_of_;  // topology node id -> shown node id
};

}  // namespace meshsim::gui
