#include "graph/topology_scene.h"

#include <QFontMetricsF>
#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QtMath>

#include "graph/layout.h"

namespace meshsim::gui {

namespace {

constexpr QSizeF kNodeSize{172, 46};
constexpr QSizeF kCollapsedSize{200, 52};

QString collapsedId(const QString& group) { return QStringLiteral("group:") + group; }

// A stable pastel per Service, so that versions of one Service share a colour.
QColor serviceColour(const QString& service) {
  static const QRgb palette[] = {0xff1e88e5, 0xff43a047, 0xff8e24aa, 0xff00897b,
                                 0xff3949ab, 0xff6d4c41, 0xffc0ca33, 0xff5e35b1};
  if (service.isEmpty()) return QColor(0xff78909c);
  return QColor(palette[qHash(service) % (sizeof palette / sizeof palette[0])]);
}

QColor groupFill(const QString& kind) {
  if (kind == QLatin1String("cluster")) return QColor(0xfff5f7fa);
  if (kind == QLatin1String("tenant")) return QColor(0xffeef3fb);
  if (kind == QLatin1String("workspace")) return QColor(0xffe6eef9);
  return QColor(0xffffffff);
}

void drawPadlock(QPainter* p, const QPointF& at, const QColor& colour) {
  // Body 8x6 with a shackle above it; `at` is the body's top-left corner.
  p->save();
  p->setPen(QPen(colour, 1.4));
  p->setBrush(Qt::NoBrush);
  p->drawArc(QRectF(at.x() + 1.5, at.y() - 5, 5, 8), 0, 180 * 16);
  p->setPen(Qt::NoPen);
  p->setBrush(colour);
  p->drawRoundedRect(QRectF(at.x(), at.y(), 8, 6.5), 1, 1);
  p->restore();
}

enum class NodeState { kNormal, kHighlighted, kDimmed, kCompromised, kReached };

class NodeItem : public QGraphicsItem {
 public:
  NodeItem(const QRectF& rect, QString title, QString subtitle, QColor accent, bool box)
      : rect_(rect),
        title_(std::move(title)),
        subtitle_(std::move(subtitle)),
        accent_(accent),
        box_(box) {
    setZValue(3);
    setAcceptHoverEvents(true);
  }
  QRectF boundingRect() const override { return rect_.adjusted(-4, -4, 4, 4); }
  void setState(NodeState state, int hop) {
    state_ = state;
    hop_ = hop;
    update();
  }
  NodeState state() const { return state_; }
  void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override {
    p->setRenderHint(QPainter::Antialiasing);
    QColor fill = Qt::white;
    QColor border = accent_;
    double width = 1.2;
    if (state_ == NodeState::kCompromised) {
      fill = QColor(0xffffebee);
      border = QColor(kRefusedEdgeColour);
      width = 3;
    } else if (state_ == NodeState::kReached) {
      fill = QColor(0xfffff3e0);
      border = QColor(kBlastEdgeColour);
      width = 2.5;
    } else if (state_ == NodeState::kHighlighted) {
      fill = QColor(0xfffffde7);
      border = QColor(0xfff9a825);
      width = 3;
    }
    p->setOpacity(state_ == NodeState::kDimmed ? 0.35 : 1.0);
    p->setPen(QPen(border, width, box_ ? Qt::DashLine : Qt::SolidLine));
    p->setBrush(fill);
    p->drawRoundedRect(rect_, 6, 6);
    // The accent bar on the left says which Service the workload serves.
    p->setPen(Qt::NoPen);
    p->setBrush(accent_);
    p->drawRoundedRect(QRectF(rect_.left() + 1, rect_.top() + 1, 5, rect_.height() - 2), 2, 2);
    QFont f = p->font();
    f.setPointSizeF(9.5);
    f.setBold(true);
    p->setFont(f);
    p->setPen(QColor(0xff263238));
    const QRectF text = rect_.adjusted(12, 4, -6, -4);
    p->drawText(QRectF(text.left(), text.top(), text.width(), text.height() / 2),
                Qt::AlignLeft | Qt::AlignVCenter,
                QFontMetricsF(f).elidedText(title_, Qt::ElideMiddle, text.width()));
    f.setBold(false);
    f.setPointSizeF(8);
    p->setFont(f);
    p->setPen(QColor(0xff546e7a));
    QString sub = subtitle_;
    if (state_ == NodeState::kReached) sub = QStringLiteral("hop %1 · %2").arg(hop_).arg(sub);
    if (state_ == NodeState::kCompromised) sub = QStringLiteral("COMPROMISED · ") + sub;
    p->drawText(QRectF(text.left(), text.center().y(), text.width(), text.height() / 2),
                Qt::AlignLeft | Qt::AlignVCenter,
                QFontMetricsF(f).elidedText(sub, Qt::ElideRight, text.width()));
  }

 private:
  QRectF rect_;
  QString title_;
  QString subtitle_;
  QColor accent_;
  bool box_;
  NodeState state_ = NodeState::kNormal;
  int hop_ = 0;
};

class GroupItem : public QGraphicsItem {
 public:
  GroupItem(const QRectF& rect, QString kind, QString label, int depth)
      : rect_(rect), kind_(std::move(kind)), label_(std::move(label)) {
    setZValue(depth * 0.1);
  }
  QRectF boundingRect() const override { return rect_.adjusted(-2, -2, 2, 2); }
  void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override {
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(QPen(QColor(0xff90a4ae), kind_ == QLatin1String("namespace") ? 1.0 : 1.4,
                   kind_ == QLatin1String("namespace") ? Qt::DashLine : Qt::SolidLine));
    p->setBrush(groupFill(kind_));
    p->drawRoundedRect(rect_, 8, 8);
    QFont f = p->font();
    f.setPointSizeF(8.5);
    f.setBold(true);
    p->setFont(f);
    p->setPen(QColor(0xff455a64));
    p->drawText(rect_.adjusted(10, 4, -10, 0), Qt::AlignLeft | Qt::AlignTop,
                kind_.toUpper() + QStringLiteral("  ") + label_);
  }

 private:
  QRectF rect_;
  QString kind_;
  QString label_;
};

class EdgeLabelItem : public QGraphicsItem {
 public:
  EdgeLabelItem() { setZValue(4); }
  void set(const QString& text, bool mtls, QColor colour) {
    prepareGeometryChange();
    text_ = text;
    mtls_ = mtls;
    colour_ = colour;
    QFont f;
    f.setPointSizeF(8);
    const QFontMetricsF m(f);
    const double w = m.horizontalAdvance(text_) + (mtls_ ? 14 : 0) + 10;
    rect_ = QRectF(-w / 2, -m.height() / 2 - 2, w, m.height() + 4);
    update();
  }
  const QString& text() const { return text_; }
  QRectF boundingRect() const override { return rect_.adjusted(-1, -1, 1, 1); }
  void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override {
    if (text_.isEmpty() && !mtls_) return;
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(QPen(colour_.lighter(150), 0.8));
    p->setBrush(QColor(255, 255, 255, 235));
    p->drawRoundedRect(rect_, 4, 4);
    double x = rect_.left() + 5;
    if (mtls_) {
      drawPadlock(p, QPointF(x, rect_.center().y() - 2), QColor(0xff2e7d32));
      x += 13;
    }
    QFont f = p->font();
    f.setPointSizeF(8);
    p->setFont(f);
    p->setPen(colour_.darker(130));
    p->drawText(QRectF(x, rect_.top(), rect_.right() - x, rect_.height()),
                Qt::AlignLeft | Qt::AlignVCenter, text_);
  }

 private:
  QRectF rect_;
  QString text_;
  bool mtls_ = false;
  QColor colour_;
};

class EdgeItem : public QGraphicsPathItem {
 public:
  EdgeItem(const QList<QPointF>& points, const QPointF& label_at) {
    setZValue(2);
    QPainterPath path;
    if (!points.isEmpty()) {
      path.moveTo(points[0]);
      for (int i = 1; i + 2 < points.size() + 0 && i + 2 <= points.size() - 1; i += 3) {
        path.cubicTo(points[i], points[i + 1], points[i + 2]);
      }
      tip_ = points.last();
      // Direction of the last segment, for the arrow head.
      for (int i = points.size() - 2; i >= 0; --i) {
        if (QLineF(points[i], tip_).length() > 0.5) {
          from_ = points[i];
          break;
        }
      }
    }
    setPath(path);
    label_ = new EdgeLabelItem();
    label_->setParentItem(this);
    label_->setPos(label_at);
  }
  EdgeLabelItem* label() const { return label_; }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* o, QWidget* w) override {
    p->setRenderHint(QPainter::Antialiasing);
    QGraphicsPathItem::paint(p, o, w);
    const QLineF line(tip_, from_);
    if (line.length() < 0.5) return;
    const double angle = qDegreesToRadians(line.angle());
    const double size = 9 + pen().widthF();
    auto corner = [&](double delta) {
      return tip_ + QPointF(std::cos(angle + delta) * size, -std::sin(angle + delta) * size);
    };
    p->setPen(Qt::NoPen);
    p->setBrush(pen().color());
    p->drawPolygon(QPolygonF({tip_, corner(0.4), corner(-0.4)}));
  }
  QRectF boundingRect() const override {
    return QGraphicsPathItem::boundingRect().adjusted(-14, -14, 14, 14);
  }

 private:
  EdgeLabelItem* label_;
  QPointF tip_;
  QPointF from_;
};

QString percent(double share) { return QStringLiteral("%1%").arg(qRound(share * 100)); }

}  // namespace

TopologyScene::TopologyScene(QObject* parent) : QGraphicsScene(parent) {
  setBackgroundBrush(QColor(0xfffafbfc));
}

QString TopologyScene::structureKey(const TopologyView& t) const {
  QStringList parts;
  for (const GroupView& g : t.groups) parts.append(QStringLiteral("g ") + g.id);
  for (const NodeView& n : t.nodes) parts.append(QStringLiteral("n ") + n.id);
  for (const EdgeView& e : t.edges) parts.append(QStringLiteral("e ") + e.key());
  return parts.join(QLatin1Char('\n'));
}

void TopologyScene::setTopology(const TopologyView& topology) {
  const QString structure = structureKey(topology);
  topology_ = topology;
  if (structure != structure_ || (nodes_.isEmpty() && !topology.nodes.isEmpty())) {
    structure_ = structure;
    relayout();
  } else {
    restyle();
  }
}

void TopologyScene::setCollapsed(const QString& group, bool collapsed) {
  if (collapsed == collapsed_.contains(group)) return;
  if (collapsed) {
    collapsed_.insert(group);
  } else {
    collapsed_.remove(group);
  }
  relayout();
}

int TopologyScene::setSearch(const QString& text) {
  search_ = text.trimmed();
  restyle();
  if (search_.isEmpty()) return 0;
  int n = 0;
  for (const QString& id : nodes_.keys()) n += id.contains(search_, Qt::CaseInsensitive) ? 1 : 0;
  return n;
}

void TopologyScene::setBlast(const BlastView& blast, int hops) {
  blast_ = blast;
  blast_hops_ = hops;
  restyle();
}

void TopologyScene::relayout() {
  clear();
  nodes_.clear();
  edges_.clear();
  groups_.clear();
  node_of_.clear();
  layout_error_.clear();

  QHash<QString, const GroupView*> group_by_id;
  for (const GroupView& g : topology_.groups) group_by_id.insert(g.id, &g);
  // The outermost collapsed box that contains `group`, or "".
  auto collapsedAncestor = [&](QString group) {
    QString found;
    for (int depth = 0; !group.isEmpty() && depth < 64; ++depth) {
      if (collapsed_.contains(group)) found = group;
      const GroupView* g = group_by_id.value(group);
      group = g != nullptr ? g->parent : QString();
    }
    return found;
  };

  LayoutInput input;
  QHash<QString, QString> labels;     // shown node id -> title
  QHash<QString, QString> subtitles;  // shown node id -> subtitle
  QHash<QString, QColor> accents;
  QHash<QString, int> collapsed_counts;
  for (const GroupView& g : topology_.groups) {
    const QString hidden_in = collapsedAncestor(g.parent);
    if (!hidden_in.isEmpty() || collapsed_.contains(g.id)) continue;
    input.groups.append({g.id, g.parent, g.kind + QLatin1Char(' ') + g.name});
  }
  for (const GroupView& g : topology_.groups) {
    if (!collapsed_.contains(g.id) || !collapsedAncestor(g.parent).isEmpty()) continue;
    const QString id = collapsedId(g.id);
    input.nodes.append({id, g.parent, kCollapsedSize});
    labels.insert(id, QStringLiteral("%1 %2").arg(g.kind, g.name));
    accents.insert(id, QColor(0xff546e7a));
  }
  for (const NodeView& n : topology_.nodes) {
    const QString box = collapsedAncestor(n.group);
    if (!box.isEmpty()) {
      node_of_.insert(n.id, collapsedId(box));
      ++collapsed_counts[collapsedId(box)];
      continue;
    }
    node_of_.insert(n.id, n.id);
    input.nodes.append({n.id, n.group, kNodeSize});
    if (n.kind == QLatin1String("workload")) {
      labels.insert(n.id, n.version.isEmpty() ? n.name : n.name);
      QStringList sub;
      sub.append(n.service.isEmpty() ? QStringLiteral("client")
                                     : n.service.section('/', -1));
      if (!n.version.isEmpty()) sub.append(n.version);
      sub.append(QStringLiteral("×%1").arg(n.replicas));
      if (!n.sidecar) sub.append(QStringLiteral("no sidecar"));
      subtitles.insert(n.id, sub.join(QStringLiteral(" · ")));
      accents.insert(n.id, serviceColour(n.service));
    } else {
      labels.insert(n.id, n.name);
      subtitles.insert(n.id, n.kind == QLatin1String("outside") ? QStringLiteral("outside the mesh")
                                                                : QStringLiteral("unserved service"));
      accents.insert(n.id, QColor(0xff90a4ae));
    }
  }
  for (auto it = collapsed_counts.constBegin(); it != collapsed_counts.constEnd(); ++it) {
    subtitles.insert(it.key(), QStringLiteral("collapsed · %1 workloads").arg(it.value()));
  }
  // Edges between shown nodes; several edges folded into one box keep the first.
  QList<QString> edge_keys;
  QSet<QString> seen;
  for (const EdgeView& e : topology_.edges) {
    const QString from = node_of_.value(e.from, e.from);
    const QString to = node_of_.value(e.to, e.to);
    if (from == to) continue;
    const QString key = from + QStringLiteral(" -> ") + to;
    if (seen.contains(key)) continue;
    seen.insert(key);
    input.edges.append({from, to, QStringLiteral("MM 100% · 000.0 rps")});
    edge_keys.append(key);
  }

  const LayoutResult layout = layoutGraph(input);
  if (!layout.ok) {
    layout_error_ = layout.error;
    addText(QStringLiteral("Layout failed: ") + layout.error);
    return;
  }
  QHash<QString, int> depth_of;
  for (const LayoutGroup& g : input.groups) {
    int depth = 0;
    for (QString at = g.parent; !at.isEmpty() && depth < 64; ++depth) {
      const GroupView* p = group_by_id.value(at);
      at = p != nullptr ? p->parent : QString();
    }
    depth_of.insert(g.id, depth);
  }
  for (const LayoutGroup& g : input.groups) {
    const GroupView* view = group_by_id.value(g.id);
    auto* item = new GroupItem(layout.groups.value(g.id), view->kind, view->name,
                               depth_of.value(g.id));
    item->setData(kItemIdData, g.id);
    item->setData(kItemKindData, QStringLiteral("group"));
    item->setToolTip(QStringLiteral("%1 %2 (double-click to collapse)").arg(view->kind, view->name));
    addItem(item);
    groups_.insert(g.id, item);
  }
  for (const LayoutNode& n : input.nodes) {
    const bool box = n.id.startsWith(QStringLiteral("group:"));
    auto* item = new NodeItem(layout.nodes.value(n.id), labels.value(n.id), subtitles.value(n.id),
                              accents.value(n.id), box);
    item->setData(kItemIdData, n.id);
    item->setData(kItemKindData, QStringLiteral("node"));
    item->setToolTip(box ? QStringLiteral("%1 (double-click to expand)").arg(labels.value(n.id))
                         : n.id);
    addItem(item);
    nodes_.insert(n.id, item);
  }
  for (int i = 0; i < input.edges.size(); ++i) {
    auto* item = new EdgeItem(layout.edge_paths.value(i), layout.edge_label_positions.value(i));
    item->setData(kItemIdData, edge_keys[i]);
    item->setData(kItemKindData, QStringLiteral("edge"));
    item->label()->setData(kItemIdData, edge_keys[i]);
    item->label()->setData(kItemKindData, QStringLiteral("edge-label"));
    addItem(item);
    edges_.insert(edge_keys[i], item);
  }
  setSceneRect(layout.bounds.adjusted(-30, -30, 30, 30));
  restyle();
}

void TopologyScene::restyle() {
  // Edges: the first topology edge of each shown key decides the look.
  QSet<QString> styled;
  for (const EdgeView& e : topology_.edges) {
    const QString key = node_of_.value(e.from, e.from) + QStringLiteral(" -> ") +
                        node_of_.value(e.to, e.to);
    auto* item = static_cast<EdgeItem*>(edges_.value(key));
    if (item == nullptr || styled.contains(key)) continue;
    styled.insert(key);
    QStringList text;
    if (e.share < 0.995) text.append(percent(e.share));
    // The measured split next to the configured one, where the call is split at all.
    if (e.live_share >= 0 && (e.share < 0.995 || e.live_share < 0.995)) {
      text.append(QStringLiteral("%1 live").arg(percent(e.live_share)));
    }
    if (e.has_traffic) text.append(QStringLiteral("%1 rps").arg(e.rps, 0, 'f', e.rps >= 100 ? 0 : 1));
    if (!e.allowed) text.prepend(e.status == 0 ? QStringLiteral("reset") : QString::number(e.status));
    const QColor colour(e.allowed ? kAllowedEdgeColour : kRefusedEdgeColour);
    item->setPen(QPen(colour, e.allowed ? 1.6 : 2.2, e.allowed ? Qt::SolidLine : Qt::DashLine));
    item->label()->set(text.join(QStringLiteral(" · ")), e.mtls, colour);
    QString tip = e.allowed
                      ? QStringLiteral("%1\n%2 → %3: %4 of the calls%5")
                            .arg(e.service, e.from, e.to, percent(e.share),
                                 e.mtls ? QStringLiteral(", mutual TLS") : QStringLiteral(", plaintext"))
                      : QStringLiteral("REFUSED by %1\n%2")
                            .arg(e.policy.isEmpty() ? QStringLiteral("(no policy)") : e.policy,
                                 e.reason);
    if (e.live_share >= 0) {
      tip += QStringLiteral("\nmeasured: %1 of the calls").arg(percent(e.live_share));
    }
    if (e.has_traffic) {
      tip += QStringLiteral("\n%1 rps, %2 requests, %3 errors, p50 %4 ms")
                 .arg(e.rps, 0, 'f', 1)
                 .arg(e.requests)
                 .arg(e.errors)
                 .arg(e.p50_ms, 0, 'f', 1);
    }
    item->setToolTip(tip);
    item->label()->setToolTip(tip);
  }
  // Remove the previous blast overlay.
  for (QGraphicsItem* item : items()) {
    if (item->data(kItemKindData).toString() == QLatin1String("blast-edge")) {
      removeItem(item);
      delete item;
    }
  }
  QHash<QString, int> reached;
  for (const BlastTarget& t : blast_.reached) {
    if (blast_hops_ < 0 || t.hops <= blast_hops_) reached.insert(node_of_.value(t.workload), t.hops);
  }
  const QString compromised = node_of_.value(blast_.compromised);
  for (auto it = nodes_.constBegin(); it != nodes_.constEnd(); ++it) {
    auto* node = static_cast<NodeItem*>(it.value());
    if (!compromised.isEmpty() && it.key() == compromised) {
      node->setState(NodeState::kCompromised, 0);
    } else if (reached.contains(it.key())) {
      node->setState(NodeState::kReached, reached.value(it.key()));
    } else if (!search_.isEmpty()) {
      node->setState(it.key().contains(search_, Qt::CaseInsensitive) ? NodeState::kHighlighted
                                                                     : NodeState::kDimmed,
                     0);
    } else {
      node->setState(NodeState::kNormal, 0);
    }
  }
  if (compromised.isEmpty()) return;
  // Blast edges: the hop that first reaches each workload (the attack tree), as arrows between
  // the boxes, ring by ring, with the allowing policy. Every usable edge is in the side table.
  QList<BlastHop> tree;
  for (const BlastTarget& t : blast_.reached) {
    if (!t.path.isEmpty()) tree.append(t.path.last());
  }
  QSet<QString> drawn;
  for (const BlastHop& h : tree) {
    if (blast_hops_ >= 0 && h.hop > blast_hops_) continue;
    const QString from = node_of_.value(h.from), to = node_of_.value(h.to);
    const QString key = from + QStringLiteral(" -> ") + to;
    if (from.isEmpty() || to.isEmpty() || from == to || drawn.contains(key)) continue;
    drawn.insert(key);
    const QRectF a = nodes_.value(from)->boundingRect(), b = nodes_.value(to)->boundingRect();
    QPointF start = a.center(), end = b.center();
    // Leave the boxes at their sides.
    start.rx() += (end.x() >= start.x() ? 1 : -1) * a.width() / 2;
    end.rx() -= (end.x() >= start.x() ? 1 : -1) * b.width() / 2;
    if (qAbs(end.x() - start.x()) < 10) {
      start = QPointF(a.center().x(), a.center().y() + (end.y() > start.y() ? 1 : -1) * a.height() / 2);
      end = QPointF(b.center().x(), b.center().y() - (end.y() > start.y() ? 1 : -1) * b.height() / 2);
    }
    const QPointF mid = (start + end) / 2 + QPointF(0, -18);
    QList<QPointF> points{start, mid, mid, end};
    auto* item = new EdgeItem(points, (start + end) / 2 + QPointF(0, -12));
    item->setZValue(5);
    item->label()->setZValue(6);
    item->setPen(QPen(QColor(kBlastEdgeColour), 2.6));
    item->label()->set(QStringLiteral("hop %1 · %2").arg(h.hop).arg(h.via), h.mtls,
                       QColor(kBlastEdgeColour));
    const QString tip = QStringLiteral("hop %1: %2 may call %3 (%4)\nallowed by %5")
                            .arg(h.hop)
                            .arg(h.from, h.to, h.service, h.via);
    item->setToolTip(tip);
    item->setData(kItemIdData, key);
    item->setData(kItemKindData, QStringLiteral("blast-edge"));
    item->label()->setData(kItemKindData, QStringLiteral("blast-edge-label"));
    addItem(item);
  }
}

QString TopologyScene::edgeLabel(const QString& key) const {
  auto* item = static_cast<EdgeItem*>(edges_.value(key));
  return item != nullptr ? item->label()->text() : QString();
}

bool TopologyScene::isHighlighted(const QString& id) const {
  auto* item = static_cast<NodeItem*>(nodes_.value(id));
  return item != nullptr && item->state() != NodeState::kNormal &&
         item->state() != NodeState::kDimmed;
}

void TopologyScene::mousePressEvent(QGraphicsSceneMouseEvent* event) {
  QGraphicsScene::mousePressEvent(event);
  for (QGraphicsItem* item : items(event->scenePos())) {
    if (item->data(kItemKindData).toString() == QLatin1String("node")) {
      emit nodeActivated(item->data(kItemIdData).toString());
      return;
    }
  }
}

void TopologyScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) {
  for (QGraphicsItem* item : items(event->scenePos())) {
    const QString kind = item->data(kItemKindData).toString();
    const QString id = item->data(kItemIdData).toString();
    if (kind == QLatin1String("node") && id.startsWith(QStringLiteral("group:"))) {
      setCollapsed(id.mid(6), false);
      return;
    }
    if (kind == QLatin1String("group")) {
      setCollapsed(id, true);
      return;
    }
  }
  QGraphicsScene::mouseDoubleClickEvent(event);
}

}  // namespace meshsim::gui
