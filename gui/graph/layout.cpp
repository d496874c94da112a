#include "graph/layout.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <QSet>
#include <mutex>
#include <string>

namespace meshsim::gui {

namespace {

// Graphviz reports problems through one global callback without user data; messages of the
// layout in progress (serialised by the mutex in layoutGraph) are gathered here.
std::string& errorText() {
  static std::string text;
  return text;
}

int collectError(char* message) {
  if (message != nullptr) errorText() += message;
  return 0;
}

QString quoted(const QString& text) {
  // DOT quoted strings escape only the quote; other backslashes stay as written. A backslash
  // right before the closing quote would escape it, so a trailing one is doubled (such ids do
  // not occur in meshes: Kubernetes names have no backslashes).
  QString out = QStringLiteral("\"");
  for (qsizetype i = 0; i < text.size(); ++i) {
    const QChar c = text[i];
    if (c == QLatin1Char('"') || (c == QLatin1Char('\\') && i + 1 == text.size())) {
      out += QLatin1Char('\\');
    }
    if (c == QLatin1Char('\n')) {
      out += QStringLiteral("\\n");
      continue;
    }
    out += c;
  }
  return out + QLatin1Char('"');
}

QString inches(double points) { return QString::number(points / 72.0, 'f', 4); }

class DotWriter {
 public:
  explicit DotWriter(const LayoutInput& input) : input_(input) {
    for (int i = 0; i < input.groups.size(); ++i) {
      group_index_.insert(input.groups[i].id, i);
    }
  }

  // Checks references and builds the DOT text; false with `error_` set on bad input.
  bool write() {
    for (int i = 0; i < input_.groups.size(); ++i) {
      const LayoutGroup& g = input_.groups[i];
      if (!g.parent.isEmpty() && !group_index_.contains(g.parent)) {
        return fail(QStringLiteral("group %1 names an unknown parent group %2").arg(g.id, g.parent));
      }
      // A chain longer than the number of groups has a cycle.
      QString at = g.parent;
      for (int depth = 0; !at.isEmpty(); ++depth) {
        if (at == g.id || depth > input_.groups.size()) {
          return fail(QStringLiteral("group %1 is its own ancestor").arg(g.id));
        }
        at = input_.groups[group_index_.value(at)].parent;
      }
      children_[g.parent].append(i);
    }
    QSet<QString> node_ids;
    for (int i = 0; i < input_.nodes.size(); ++i) {
      const LayoutNode& n = input_.nodes[i];
      if (!n.group.isEmpty() && !group_index_.contains(n.group)) {
        return fail(QStringLiteral("node %1 names an unknown group %2").arg(n.id, n.group));
      }
      if (node_ids.contains(n.id)) return fail(QStringLiteral("node %1 appears twice").arg(n.id));
      node_ids.insert(n.id);
      nodes_of_[n.group].append(i);
    }
    for (const LayoutEdge& e : input_.edges) {
      if (!node_ids.contains(e.from) || !node_ids.contains(e.to)) {
        return fail(
            QStringLiteral("edge %1 -> %2 names an unknown node").arg(e.from, e.to));
      }
    }
    dot_ = QStringLiteral(
               "digraph layout {\n"
               "graph [rankdir=%1, nodesep=0.3, ranksep=1.1, fontname=\"Helvetica\", "
               "fontsize=12, margin=0];\n"
               "node [shape=box, fixedsize=true, label=\"\"];\n"
               "edge [fontname=\"Helvetica\", fontsize=10];\n")
               .arg(input_.left_to_right ? QStringLiteral("LR") : QStringLiteral("TB"));
    writeScope(QString(), 0);
    for (int i = 0; i < input_.edges.size(); ++i) {
      const LayoutEdge& e = input_.edges[i];
      dot_ += QStringLiteral("%1 -> %2 [id=\"e%3\"").arg(quoted(e.from), quoted(e.to)).arg(i);
      if (!e.label.isEmpty()) dot_ += QStringLiteral(", label=%1").arg(quoted(e.label));
      dot_ += QStringLiteral("];\n");
    }
    dot_ += QStringLiteral("}\n");
    return true;
  }

  const QString& dot() const { return dot_; }
  const QString& error() const { return error_; }

 private:
  bool fail(const QString& message) {
    error_ = message;
    return false;
  }

  void writeScope(const QString& group, int depth) {
    for (int n : nodes_of_.value(group)) {
      const LayoutNode& node = input_.nodes[n];
      dot_ += QStringLiteral("%1 [width=%2, height=%3];\n")
                  .arg(quoted(node.id), inches(node.size.width()), inches(node.size.height()));
    }
    for (int g : children_.value(group)) {
      dot_ += QStringLiteral("subgraph cluster_%1 {\ngraph [label=%2, labeljust=l, labelloc=t, "
                             "margin=14];\n")
                  .arg(g)
                  .arg(quoted(input_.groups[g].label));
      writeScope(input_.groups[g].id, depth + 1);
      dot_ += QStringLiteral("}\n");
    }
  }

  const LayoutInput& input_;
  QHash<QString, int> group_index_;
  QHash<QString, QList<int>> children_;  // parent id ("" = top) -> group indexes
  QHash<QString, QList<int>> nodes_of_;  // group id ("" = top) -> node indexes
  QString dot_;
  QString error_;
};

struct Flip {
  double left = 0;
  double top = 0;
  QPointF operator()(pointf p) const { return {p.x - left, top - p.y}; }
  QRectF operator()(boxf b) const {
    return QRectF(QPointF(b.LL.x - left, top - b.UR.y), QPointF(b.UR.x - left, top - b.LL.y));
  }
};

void readClusters(Agraph_t* graph, const Flip& flip, const LayoutInput& input,
                  LayoutResult& out) {
  for (Agraph_t* sub = agfstsubg(graph); sub != nullptr; sub = agnxtsubg(sub)) {
    const QString name = QString::fromUtf8(agnameof(sub));
    if (name.startsWith(QStringLiteral("cluster_"))) {
      bool ok = false;
      const int index = name.mid(8).toInt(&ok);
      if (ok && index >= 0 && index < input.groups.size()) {
        out.groups.insert(input.groups[index].id, flip(GD_bb(sub)));
      }
    }
    readClusters(sub, flip, input, out);
  }
}

}  // namespace

LayoutResult layoutGraph(const LayoutInput& input) {
  LayoutResult out;
  DotWriter writer(input);
  if (!writer.write()) {
    out.error = writer.error();
    return out;
  }
  if (input.nodes.isEmpty()) {
    out.ok = true;
    return out;
  }
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  // One context for the life of the process: creating one reads the plugin configuration again.
  static GVC_t* gvc = [] {
    agseterrf(collectError);
    agseterr(AGWARN);
    return gvContext();
  }();
  errorText().clear();
  if (gvc == nullptr) {
    out.error = QStringLiteral("graphviz: could not create a context");
    return out;
  }
  const QByteArray dot = writer.dot().toUtf8();
  Agraph_t* graph = agmemread(dot.constData());
  if (graph == nullptr) {
    out.error = QStringLiteral("graphviz: cannot read the graph: %1")
                    .arg(QString::fromStdString(errorText()).trimmed());
    return out;
  }
  if (gvLayout(gvc, graph, "dot") != 0) {
    out.error = QStringLiteral("graphviz: layout failed: %1")
                    .arg(QString::fromStdString(errorText()).trimmed());
    agclose(graph);
    return out;
  }
  const boxf bb = GD_bb(graph);
  const Flip flip{bb.LL.x, bb.UR.y};
  out.bounds = flip(bb);
  for (const LayoutNode& n : input.nodes) {
    QByteArray name = n.id.toUtf8();
    Agnode_t* node = agnode(graph, name.data(), 0);
    if (node == nullptr) continue;
    const QPointF centre = flip(ND_coord(node));
    const double w = ND_width(node) * 72.0;
    const double h = ND_height(node) * 72.0;
    out.nodes.insert(n.id, QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h));
  }
  readClusters(graph, flip, input, out);
  out.edge_paths.resize(input.edges.size());
  out.edge_label_positions.resize(input.edges.size());
  char id_attr[] = "id";
  for (Agnode_t* node = agfstnode(graph); node != nullptr; node = agnxtnode(graph, node)) {
    for (Agedge_t* edge = agfstout(graph, node); edge != nullptr; edge = agnxtout(graph, edge)) {
      const QString id = QString::fromUtf8(agget(edge, id_attr));
      bool ok = false;
      const int index = id.mid(1).toInt(&ok);
      if (!id.startsWith(QLatin1Char('e')) || !ok || index < 0 || index >= input.edges.size()) {
        continue;
      }
      QList<QPointF> path;
      if (ED_spl(edge) != nullptr && ED_spl(edge)->size > 0) {
        const bezier& bz = ED_spl(edge)->list[0];
        for (int i = 0; i < bz.size; ++i) path.append(flip(bz.list[i]));
        if (bz.eflag != 0 && !path.isEmpty()) {
          // The spline stops at the arrow's base; a straight piece reaches the tip.
          const QPointF tip = flip(bz.ep);
          path.append({path.last(), tip, tip});
        }
      }
      out.edge_paths[index] = path;
      if (ED_label(edge) != nullptr && ED_label(edge)->set) {
        out.edge_label_positions[index] = flip(ED_label(edge)->pos);
      } else if (!path.isEmpty()) {
        out.edge_label_positions[index] = path[path.size() / 2];
      }
    }
  }
  gvFreeLayout(gvc, graph);
  agclose(graph);
  out.ok = true;
  return out;
}

}  // namespace meshsim::gui
