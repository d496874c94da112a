// The command line: parseCommandLine() in-process, and the real meshsim-gui binary for
// --screenshot, --help and its exit codes (0 ok, 1 PNG not written, 2 bad arguments).
#include "app/command_line.h"

#include <gtest/gtest.h>

#include <QColor>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <cstdlib>
#include <string>
#include <vector>

#include "app/mesh_session.h"
#include "gui_test_support.h"
#include "panels/mesh_panels.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}

struct GuiRun {
  int exit_code = -1;
  QString out;
  QString err;
};

// Runs the real program. The environment (QT_QPA_PLATFORM=offscreen under CTest) is inherited.
GuiRun runGui(const QStringList& args) {
  QProcess process;
  process.start(QStringLiteral(MESHSIM_GUI_BIN), args);
  GuiRun run;
  // A bound against hangs, not a timing assertion.
  if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit) {
    process.kill();
    process.waitForFinished();
    return run;
  }
  run.exit_code = process.exitCode();
  run.out = QString::fromUtf8(process.readAllStandardOutput());
  run.err = QString::fromUtf8(process.readAllStandardError());
  return run;
}

// Pixels drawn in (or close to) one of the metrics charts' series colours.
int seriesPixels(const QImage& image) {
  int n = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const QColor c = image.pixelColor(x, y);
      for (QRgb series : kSeriesColours) {
        const QColor s = QColor::fromRgb(series);
        if (std::abs(c.red() - s.red()) + std::abs(c.green() - s.green()) +
                std::abs(c.blue() - s.blue()) <
            40) {
          ++n;
          break;
        }
      }
    }
  }
  return n;
}

// The number of steps to play to get through the first step of `kind` whose title contains
// `text`, searching after the first `from` steps of the scenario at `path`; 0 when none.
int stepsThrough(const QString& path, const QString& kind, const QString& text, int from = 0) {
  MeshSession session;
  session.open({path});
  const QList<StepView>& steps = session.steps();
  for (int i = from; i < steps.size(); ++i) {
    if (steps[i].kind == kind && steps[i].title.contains(text)) return i + 1;
  }
  return 0;
}

int distinctColours(const QImage& image) {
  QSet<QRgb> colours;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) colours.insert(image.pixel(x, y));
  }
  return static_cast<int>(colours.size());
}

class CommandLineTest : public GuiTest {};

TEST_F(CommandLineTest, ParsesPathsAndScreenshot) {
  struct Case {
    QStringList args;
    QStringList paths;
    QString screenshot;
  };
  const std::vector<Case> cases = {
      {{"meshsim-gui"}, {}, ""},
      {{"meshsim-gui", "a.yaml", "dir"}, {"a.yaml", "dir"}, ""},
      {{"meshsim-gui", "--screenshot", "out.png", "dir"}, {"dir"}, "out.png"},
      {{"meshsim-gui", "--screenshot=out.png"}, {}, "out.png"},
      {{"meshsim-gui", "dir", "--screenshot", "o.png", "b.yaml"}, {"dir", "b.yaml"}, "o.png"},
      {{"meshsim-gui", "--", "--screenshot"}, {"--screenshot"}, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.join(' ').toStdString());
    const ParsedCommandLine parsed = parseCommandLine(c.args);
    EXPECT_TRUE(parsed.run);
    EXPECT_EQ(parsed.exit_code, kExitOk);
    EXPECT_EQ(parsed.options.paths, c.paths);
    EXPECT_EQ(parsed.options.screenshot, c.screenshot);
  }
}

TEST_F(CommandLineTest, BadArgumentsExitTwo) {
  struct Case {
    QStringList args;
    QString message;
  };
  const std::vector<Case> cases = {
      {{"meshsim-gui", "--frobnicate"},
       "meshsim-gui: Unknown option 'frobnicate'.\nTry 'meshsim-gui --help'."},
      {{"meshsim-gui", "--screenshot"},
       "meshsim-gui: Missing value after '--screenshot'.\nTry 'meshsim-gui --help'."},
      {{"meshsim-gui", "--screenshot="}, "meshsim-gui: --screenshot needs a file name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.join(' ').toStdString());
    const ParsedCommandLine parsed = parseCommandLine(c.args);
    EXPECT_FALSE(parsed.run);
    EXPECT_EQ(parsed.exit_code, kExitUsage);
    EXPECT_EQ(parsed.message, c.message);
  }
}

TEST_F(CommandLineTest, HelpAndVersionExitZero) {
  const ParsedCommandLine help = parseCommandLine({"meshsim-gui", "--help"});
  EXPECT_FALSE(help.run);
  EXPECT_EQ(help.exit_code, kExitOk);
  EXPECT_TRUE(help.message.contains("--screenshot <OUT>")) << help.message.toStdString();
  EXPECT_TRUE(help.message.contains("[PATH...]")) << help.message.toStdString();

  const ParsedCommandLine help_all = parseCommandLine({"meshsim-gui", "--help-all"});
  EXPECT_FALSE(help_all.run);
  EXPECT_EQ(help_all.exit_code, kExitOk);
  EXPECT_EQ(help_all.message, help.message);

  const ParsedCommandLine version = parseCommandLine({"meshsim-gui", "--version"});
  EXPECT_FALSE(version.run);
  EXPECT_EQ(version.exit_code, kExitOk);
  EXPECT_TRUE(version.message.startsWith("meshsim-gui ")) << version.message.toStdString();
}

TEST(RunsWithoutDisplay, OnlyForScreenshotHelpAndVersion) {
  struct Case {
    std::vector<const char*> argv;
    bool expected;
  };
  const std::vector<Case> cases = {
      {{"meshsim-gui"}, false},
      {{"meshsim-gui", "dir"}, false},
      {{"meshsim-gui", "--screenshot", "o.png", "dir"}, true},
      {{"meshsim-gui", "--screenshot=o.png"}, true},
      {{"meshsim-gui", "--help"}, true},
      {{"meshsim-gui", "-h"}, true},
      {{"meshsim-gui", "--help-all"}, true},
      {{"meshsim-gui", "--version"}, true},
      {{"meshsim-gui", "--", "--screenshot"}, false},
      {{"meshsim-gui", "--screenshots"}, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(runsWithoutDisplay(static_cast<int>(c.argv.size()), c.argv.data()), c.expected)
        << c.argv.back();
  }
}

TEST_F(CommandLineTest, BinaryWritesAScreenshotOfBookinfo) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString out = dir.filePath("bookinfo.png");
  const GuiRun run = runGui({"--screenshot", out, bookinfo()});
  ASSERT_EQ(run.exit_code, 0) << run.err.toStdString();
  QImage image;
  ASSERT_TRUE(image.load(out, "PNG")) << out.toStdString();
  EXPECT_EQ(image.width(), 1400);
  EXPECT_EQ(image.height(), 900);
  EXPECT_GT(distinctColours(image), 50);
}

TEST_F(CommandLineTest, BinaryExitsOneWhenThePngCannotBeWritten) {
  const GuiRun run = runGui({"--screenshot", "/nonexistent-dir/shot.png", bookinfo()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.err.contains("meshsim-gui: cannot write /nonexistent-dir/shot.png: "))
      << run.err.toStdString();
}

TEST_F(CommandLineTest, BinaryExitsTwoOnBadArguments) {
  const GuiRun unknown = runGui({"--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(unknown.err.contains("Unknown option 'frobnicate'")) << unknown.err.toStdString();

  const GuiRun missing_value = runGui({"--screenshot"});
  EXPECT_EQ(missing_value.exit_code, 2);

  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString out = dir.filePath("never.png");
  const QString absent = bookinfo() + "/absent.yaml";
  const GuiRun unreadable = runGui({"--screenshot", out, absent});
  EXPECT_EQ(unreadable.exit_code, 2);
  EXPECT_TRUE(unreadable.err.contains("meshsim-gui: cannot read " + absent))
      << unreadable.err.toStdString();
  EXPECT_FALSE(QFile::exists(out));
}

TEST_F(CommandLineTest, BinaryHelpWorks) {
  const GuiRun run = runGui({"--help"});
  EXPECT_EQ(run.exit_code, 0) << run.err.toStdString();
  EXPECT_TRUE(run.out.contains("Usage:")) << run.out.toStdString();
  EXPECT_TRUE(run.out.contains("--screenshot <OUT>")) << run.out.toStdString();
}

TEST_F(CommandLineTest, ParsesAfterStepAndCompromise) {
  const ParsedCommandLine ok =
      parseCommandLine({"meshsim-gui", "--screenshot", "o.png", "--after-step", "4", "--compromise",
                        "bookinfo/productpage-v1", "dir"});
  EXPECT_TRUE(ok.run);
  EXPECT_EQ(ok.options.after_step, 4);
  EXPECT_EQ(ok.options.compromise, "bookinfo/productpage-v1");
  EXPECT_EQ(ok.options.paths, QStringList{"dir"});
  struct Case {
    QStringList args;
    QString message;
  };
  const std::vector<Case> bad = {
      {{"meshsim-gui", "--after-step", "x"},
       "meshsim-gui: --after-step needs a number of steps (0 or more), not \"x\""},
      {{"meshsim-gui", "--after-step", "-1"},
       "meshsim-gui: --after-step needs a number of steps (0 or more), not \"-1\""},
      {{"meshsim-gui", "--compromise", "web"},
       "meshsim-gui: --compromise needs a workload as NS/NAME, not \"web\""},
  };
  for (const Case& c : bad) {
    SCOPED_TRACE(c.args.join(' ').toStdString());
    const ParsedCommandLine parsed = parseCommandLine(c.args);
    EXPECT_FALSE(parsed.run);
    EXPECT_EQ(parsed.exit_code, kExitUsage);
    EXPECT_EQ(parsed.message, c.message);
  }
}

TEST_F(CommandLineTest, BinaryScreenshotsTheCanaryAfterScenarioSteps) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString out = dir.filePath("canary.png");
  const int canary = stepsThrough(bookinfo(), "apply", "changes/ratings-canary.yaml");
  ASSERT_GT(canary, 0);
  const GuiRun run = runGui({"--screenshot", out, "--after-step", QString::number(canary),
                             "--compromise", "bookinfo/productpage-v1", bookinfo()});
  ASSERT_EQ(run.exit_code, 0) << run.err.toStdString();
  QImage image;
  ASSERT_TRUE(image.load(out, "PNG"));
  EXPECT_EQ(image.size(), QSize(1400, 900));
  EXPECT_GT(distinctColours(image), 50);
}

TEST_F(CommandLineTest, BinaryLiveScreenshotHasChartsDrawn) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  // Through the first traffic step after the canary: 400 requests on the real data plane.
  const int canary = stepsThrough(bookinfo(), "apply", "changes/ratings-canary.yaml");
  ASSERT_GT(canary, 0);
  const int traffic = stepsThrough(bookinfo(), "traffic", "", canary);
  ASSERT_GT(traffic, canary);
  const QString live = dir.filePath("live.png");
  const GuiRun run = runGui(
      {"--screenshot", live, "--live", "--after-step", QString::number(traffic), bookinfo()});
  ASSERT_EQ(run.exit_code, 0) << run.err.toStdString();
  const QString still = dir.filePath("still.png");
  ASSERT_EQ(runGui({"--screenshot", still, bookinfo()}).exit_code, 0);
  QImage live_image, still_image;
  ASSERT_TRUE(live_image.load(live, "PNG"));
  ASSERT_TRUE(still_image.load(still, "PNG"));
  EXPECT_EQ(live_image.size(), QSize(1400, 900));
  // The Observe dock (the bottom of the window) holds the charts: their lines are drawn in the
  // series colours, which an idle mesh's empty charts do not show.
  const QRect charts(0, live_image.height() * 6 / 10, live_image.width(),
                     live_image.height() * 4 / 10);
  const int drawn = seriesPixels(live_image.copy(charts));
  const int idle = seriesPixels(still_image.copy(charts));
  EXPECT_GT(drawn, idle + 300) << "live " << drawn << ", idle " << idle;

  // --live on a plain configuration starts its mesh; nothing is sent, nothing fails.
  const GuiRun plain =
      runGui({"--screenshot", dir.filePath("plain.png"), "--live", bookinfo() + "/mesh"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err.toStdString();
}

TEST_F(CommandLineTest, BinaryLiveWithoutAConfigurationExitsOne) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const GuiRun run = runGui({"--screenshot", dir.filePath("none.png"), "--live"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(run.err.contains("meshsim-gui: --live: nothing to start: no configuration is loaded"))
      << run.err.toStdString();
  EXPECT_FALSE(QFile::exists(dir.filePath("none.png")));
}

TEST_F(CommandLineTest, BinaryExitsOneWhenTheStepsCannotBePlayed) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  // The tenant's STRICTER mTLS setting refuses the scenario's own last file.
  const QString scenario =
      meshsim::gui::testing::writeRefusedScenario(QDir(dir.path()), bookinfo());
  const GuiRun run = runGui({"--screenshot", dir.filePath("never.png"), "--after-step", "1",
                             scenario});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(
      run.err.contains("meshsim-gui: --after-step 1: stopped after 0 steps: "
                       "organizations/acme/tenants/retail/workspaces/bookinfo/"
                       "securitygroups/bookinfo-sec/securitysettings/ratings refused: "))
      << run.err.toStdString();
  EXPECT_FALSE(QFile::exists(dir.filePath("never.png")));
}

TEST_F(CommandLineTest, ParsesLive) {
  EXPECT_FALSE(parseCommandLine({"meshsim-gui", "dir"}).options.live);
  const ParsedCommandLine live =
      parseCommandLine({"meshsim-gui", "--screenshot", "o.png", "--live", "dir"});
  EXPECT_TRUE(live.run);
  EXPECT_TRUE(live.options.live);
  EXPECT_EQ(live.options.paths, QStringList{"dir"});
  EXPECT_TRUE(parseCommandLine({"meshsim-gui", "--help"}).message.contains("--live"));
}

TEST_F(CommandLineTest, BinaryRejectsStepsBeyondTheScenarioAndUnknownWorkloads) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const GuiRun steps =
      runGui({"--screenshot", dir.filePath("a.png"), "--after-step", "999", bookinfo()});
  EXPECT_EQ(steps.exit_code, 2);
  EXPECT_TRUE(steps.err.contains("meshsim-gui: --after-step 999: the scenario has "))
      << steps.err.toStdString();
  const GuiRun workload = runGui(
      {"--screenshot", dir.filePath("b.png"), "--compromise", "bookinfo/nobody", bookinfo()});
  EXPECT_EQ(workload.exit_code, 2);
  EXPECT_TRUE(workload.err.contains("meshsim-gui: --compromise: no workload bookinfo/nobody"))
      << workload.err.toStdString();
  EXPECT_FALSE(QFile::exists(dir.filePath("a.png")));
  EXPECT_FALSE(QFile::exists(dir.filePath("b.png")));
}

}  // namespace
}  // namespace meshsim::gui
