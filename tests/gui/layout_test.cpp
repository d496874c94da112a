// layoutGraph(): Graphviz "dot" behind "ids and edges in, positions out".
#include "graph/layout.h"

#include <gtest/gtest.h>

#include "gui_test_support.h"

namespace meshsim::gui {
namespace {

LayoutInput smallGraph() {
  LayoutInput in;
  in.groups = {{"inner", "outer", "ns inner"}, {"outer", "", "tenant outer"}};
  in.nodes = {{"a", "inner", {100, 40}}, {"b", "inner", {100, 40}}, {"c", "", {80, 30}}};
  in.edges = {{"a", "b", "50%"}, {"b", "c", ""}};
  return in;
}

TEST(Layout, PlacesNodesInsideTheirNestedGroups) {
  const LayoutResult out = layoutGraph(smallGraph());
  ASSERT_TRUE(out.ok) << out.error.toStdString();
  ASSERT_EQ(out.nodes.size(), 3);
  ASSERT_EQ(out.groups.size(), 2);
  // Node sizes are kept (points in, points out).
  EXPECT_NEAR(out.nodes["a"].width(), 100, 0.5);
  EXPECT_NEAR(out.nodes["a"].height(), 40, 0.5);
  EXPECT_NEAR(out.nodes["c"].width(), 80, 0.5);
  EXPECT_TRUE(out.groups["inner"].contains(out.nodes["a"]));
  EXPECT_TRUE(out.groups["inner"].contains(out.nodes["b"]));
  EXPECT_TRUE(out.groups["outer"].contains(out.groups["inner"]));
  EXPECT_FALSE(out.groups["outer"].contains(out.nodes["c"]));
  EXPECT_TRUE(out.bounds.contains(out.groups["outer"]));
  // Left to right: the caller comes before the callee.
  EXPECT_LT(out.nodes["a"].center().x(), out.nodes["b"].center().x());
  EXPECT_LT(out.nodes["b"].center().x(), out.nodes["c"].center().x());
}

TEST(Layout, EdgePathsRunFromSourceToTargetAndLabelsGetAPlace) {
  const LayoutResult out = layoutGraph(smallGraph());
  ASSERT_TRUE(out.ok) << out.error.toStdString();
  ASSERT_EQ(out.edge_paths.size(), 2);
  for (int i = 0; i < 2; ++i) {
    const QList<QPointF>& path = out.edge_paths[i];
    ASSERT_GE(path.size(), 4);
    EXPECT_EQ((path.size() - 1) % 3, 0);  // 1 + 3n control points
  }
  const QRectF a = out.nodes["a"].adjusted(-2, -2, 2, 2);
  const QRectF b = out.nodes["b"].adjusted(-2, -2, 2, 2);
  EXPECT_TRUE(a.contains(out.edge_paths[0].first()));
  EXPECT_TRUE(b.contains(out.edge_paths[0].last()));  // the arrow tip touches the target
  EXPECT_TRUE(out.groups["inner"].contains(out.edge_label_positions[0]));
}

TEST(Layout, EmptyInputIsAnEmptyLayout) {
  const LayoutResult out = layoutGraph({});
  EXPECT_TRUE(out.ok);
  EXPECT_TRUE(out.nodes.isEmpty());
}

TEST(Layout, RejectsBrokenReferences) {
  struct Case {
    const char* name;
    LayoutInput input;
    QString error;
  };
  LayoutInput unknown_node = smallGraph();
  unknown_node.edges.append({"a", "zz", ""});
  LayoutInput unknown_group = smallGraph();
  unknown_group.nodes.append({"d", "nowhere", {10, 10}});
  LayoutInput unknown_parent = smallGraph();
  unknown_parent.groups.append({"g", "missing", "g"});
  LayoutInput cycle;
  cycle.groups = {{"x", "y", "x"}, {"y", "x", "y"}};
  LayoutInput twice = smallGraph();
  twice.nodes.append({"a", "", {10, 10}});
  const std::vector<Case> cases = {
      {"unknown node", unknown_node, "edge a -> zz names an unknown node"},
      {"unknown group", unknown_group, "node d names an unknown group nowhere"},
      {"unknown parent", unknown_parent, "group g names an unknown parent group missing"},
      {"cycle", cycle, "group x is its own ancestor"},
      {"duplicate node", twice, "node a appears twice"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const LayoutResult out = layoutGraph(c.input);
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.error, c.error);
  }
}

TEST(Layout, QuotesAndBackslashesInIdsAreSafe) {
  LayoutInput in;
  in.groups = {{"g\"1", "", "label with \"quotes\" and \\"}};
  in.nodes = {{"n\"1", "g\"1", {50, 20}}, {"n\\2", "", {50, 20}}};
  in.edges = {{"n\"1", "n\\2", "a \"label\""}};
  const LayoutResult out = layoutGraph(in);
  ASSERT_TRUE(out.ok) << out.error.toStdString();
  EXPECT_TRUE(out.nodes.contains("n\"1"));
  EXPECT_TRUE(out.nodes.contains("n\\2"));
  EXPECT_TRUE(out.groups.contains("g\"1"));
  EXPECT_FALSE(out.edge_paths[0].isEmpty());
}

}  // namespace
}  // namespace meshsim::gui
