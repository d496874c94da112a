#pragma once
/// Graph layout with Graphviz's "dot" engine behind one function: ids and edges in, positions
/// out. Knows nothing about meshes; the topology scene decides what the boxes and nodes mean.

#include <QHash>
#include <QList>
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QString>

namespace meshsim::gui {

/// A box that contains nodes and other boxes (a Graphviz cluster).
struct LayoutGroup {
  QString id;
  QString parent;  ///< id of the enclosing group; empty at the top level
  QString label;   ///< reserved as space at the box's top; the caller draws it
};

/// A node of fixed size.
struct LayoutNode {
  QString id;
  QString group;  ///< innermost enclosing group; empty at the top level
  QSizeF size;    ///< in points (1/72 inch), which are also scene units
};

/// A directed edge between two nodes.
struct LayoutEdge {
  QString from;
  QString to;
  QString label;  ///< text whose space the layout reserves next to the edge; may be empty
};

/// What to lay out.
struct LayoutInput {
  QList<LayoutGroup> groups;  ///< parents may come after their children
  QList<LayoutNode> nodes;
  QList<LayoutEdge> edges;
  bool left_to_right = true;  ///< rankdir=LR; false: top to bottom
};

/// Where everything went, in scene coordinates (y grows downwards, origin at the top left).
struct LayoutResult {
  bool ok = false;
  QString error;                 ///< why the layout failed (ok == false)
  QHash<QString, QRectF> nodes;  ///< node id -> rectangle
  QHash<QString, QRectF> groups;  ///< group id -> box
  /// Per input edge (same order): the cubic Bézier control points (1 + 3n points) of its
  /// spline, ending at the arrow tip; empty when Graphviz drew no spline.
  QList<QList<QPointF>> edge_paths;
  QList<QPointF> edge_label_positions;  ///< per input edge: centre of its label (or of its path)
  QRectF bounds;                        ///< the whole drawing
};

/// Lays out `input` with Graphviz "dot" (clusters for groups). Fails with a message when a node,
/// edge or group names an unknown group or node, when a group is its own ancestor, or when
/// Graphviz itself fails. Thread-safe (calls into Graphviz are serialised); never throws.
LayoutResult layoutGraph(const LayoutInput& input);

}  // namespace meshsim::gui
