// CodeView: file line numbers, the marked line, the cursor, and messages instead of text.
#include "panels/code_view.h"

#include <gtest/gtest.h>

#include <QScrollBar>
#include <QTextBlock>

#include "gui_test_support.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;

class CodeViewTest : public GuiTest {};

TEST_F(CodeViewTest, NumbersLinesAsInTheFile) {
  CodeView view;
  view.setLines({"apiVersion: meshsim/v1", "kind: Tenant", "metadata: {name: a}"}, 40);
  EXPECT_EQ(view.firstLineNumber(), 40);
  EXPECT_EQ(view.blockCount(), 3);
  EXPECT_EQ(view.cursorLineNumber(), 40);
  EXPECT_EQ(view.markedLine(), 0);
  EXPECT_TRUE(view.isReadOnly());
  EXPECT_EQ(view.toPlainText(), "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a}");
}

TEST_F(CodeViewTest, FirstLineBelowOneCountsFromOne) {
  CodeView view;
  view.setLines({"a: 1"}, 0);
  EXPECT_EQ(view.firstLineNumber(), 1);
}

TEST_F(CodeViewTest, MarksALineAndPutsTheCursorAtItsColumn) {
  CodeView view;
  view.setLines({"a: 1", "b: 2", "spec: {action: ALOW}"}, 10);
  view.markLine(12, 16);
  EXPECT_EQ(view.markedLine(), 12);
  EXPECT_EQ(view.cursorLineNumber(), 12);
  EXPECT_EQ(view.textCursor().positionInBlock(), 15);
  ASSERT_EQ(view.extraSelections().size(), 1);
  EXPECT_EQ(view.extraSelections()[0].cursor.block().text(), "spec: {action: ALOW}");

  // A column past the end of the line stops at its end.
  view.markLine(10, 99);
  EXPECT_EQ(view.cursorLineNumber(), 10);
  EXPECT_EQ(view.textCursor().positionInBlock(), 4);

  // Setting new lines clears the mark.
  view.setLines({"x: 1"});
  EXPECT_EQ(view.markedLine(), 0);
  EXPECT_TRUE(view.extraSelections().isEmpty());
}

TEST_F(CodeViewTest, LinesOutsideTheViewAreNotMarked) {
  CodeView view;
  view.setLines({"a: 1", "b: 2"}, 10);
  for (int line : {0, 9, 12, 100}) {
    SCOPED_TRACE(line);
    view.markLine(line, 1);
    EXPECT_EQ(view.markedLine(), 0);
    EXPECT_EQ(view.cursorLineNumber(), 10);
  }
}

TEST_F(CodeViewTest, MarkSetWhileHiddenIsShownFromTheLeftEdge) {
  // A long first line and a mark at a small column: once shown at full size the view must not
  // stay scrolled sideways by the narrow size it had while hidden.
  CodeView view;
  view.setLines({QString(300, 'x'), "b: 2", "weight: -10"});
  view.markLine(3, 9);
  view.resize(800, 400);
  view.show();
  EXPECT_EQ(view.horizontalScrollBar()->value(), 0);
  EXPECT_EQ(view.cursorLineNumber(), 3);
}

TEST_F(CodeViewTest, MessageReplacesText) {
  CodeView view;
  view.setLines({"a: 1"});
  view.showMessage("cannot read x.yaml: No such file or directory");
  EXPECT_TRUE(view.toPlainText().isEmpty());
  EXPECT_EQ(view.placeholderText(), "cannot read x.yaml: No such file or directory");
  view.setLines({"a: 1"});
  EXPECT_TRUE(view.placeholderText().isEmpty());
}

TEST_F(CodeViewTest, GutterGrowsWithLineNumbers) {
  CodeView view;
  view.setLines({"a"}, 1);
  const int three_digits = view.gutterWidth();
  view.setLines({"a"}, 99);
  EXPECT_EQ(view.gutterWidth(), three_digits);  // at least three digits wide
  view.setLines({"a", "b"}, 99999);
  EXPECT_GT(view.gutterWidth(), three_digits);
}

}  // namespace
}  // namespace meshsim::gui
