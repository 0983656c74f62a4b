// The framework library: loading, validation errors with locations, overrides, listing and
// search, and the completeness of the shipped 7 x 7 x 7 library.
#include "chorus/frameworks.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "route/framework_file.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

const char* kSmallFile = R"(meta_category: {id: 9, name: Test meta}
categories:
  - id: 9.1
    name: Test category
    frameworks:
      - id: 9.1.1
        name: Widget pricing ladder
        summary: Orders widget prices.
        triggers: [widget price ladder]
        examples: ["How should we price widgets?"]
        instructions: [List widgets, Order them]
        output: {format: markdown, sections: [Ladder]}
      - id: 9.1.2
        name: Gizmo schema check
        summary: Checks gizmos.
        triggers: [gizmo check]
        examples: ["Are our gizmos valid?"]
        instructions: [Inspect gizmos]
        output: {format: json, schema: {type: object, required: [ok], properties: {ok: {type: boolean}}}}
)";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "chorus-fw-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) const {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
    return dir_ + "/" + name;
  }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

const FrameworkLibrary& DefaultLibrary() {
  static const FrameworkLibrary* lib = [] {
    auto loaded = FrameworkLibrary::Load({"default"}, ".");
    if (!loaded) {
      ADD_FAILURE() << loaded.error().ToString();
      return new FrameworkLibrary();
    }
    return new FrameworkLibrary(std::move(*loaded));
  }();
  return *lib;
}

TEST(FrameworkFile, ParsesMarkdownAndJsonOutputs) {
  auto parsed = route::ParseFrameworkFile(kSmallFile, "small.yaml");
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors.front();
  ASSERT_EQ(parsed.frameworks.size(), 2u);
  const Framework& a = parsed.frameworks[0];
  EXPECT_EQ(a.id, "9.1.1");
  EXPECT_EQ(a.meta_category, "Test meta");
  EXPECT_EQ(a.category, "Test category");
  EXPECT_EQ(a.output.format, OutputFormat::kMarkdown);
  EXPECT_EQ(a.output.sections, std::vector<std::string>{"Ladder"});
  EXPECT_EQ(a.instructions.size(), 2u);
  EXPECT_EQ(a.source, "small.yaml:6:9");
  const Framework& b = parsed.frameworks[1];
  EXPECT_EQ(b.output.format, OutputFormat::kJson);
  EXPECT_EQ(b.output.schema["properties"]["ok"]["type"], "boolean");
}

TEST(FrameworkFile, ReportsEveryProblemWithLineAndColumn) {
  std::string text = kSmallFile;
  text.replace(text.find("summary: Orders widget prices."), 30, "summary: \"\"");
  text.replace(text.find("      - id: 9.1.2"), 17, "      - id: 9.2.2");
  text.replace(text.find("format: json"), 12, "format: html");
  text += "        colour: red\n";
  auto parsed = route::ParseFrameworkFile(text, "bad.yaml");
  ASSERT_EQ(parsed.errors.size(), 4u);
  EXPECT_EQ(parsed.errors[0],
            "bad.yaml:8:18: expected the summary of 9.1.1 to be non-empty text, found ''");
  EXPECT_NE(parsed.errors[1].find("bad.yaml:13:13: expected a framework id of category 9.1"),
            std::string::npos)
      << parsed.errors[1];
  EXPECT_NE(parsed.errors[2].find("expected format 'markdown' or 'json', found 'html'"),
            std::string::npos)
      << parsed.errors[2];
  EXPECT_NE(parsed.errors[3].find("bad.yaml:20:9: unknown key 'colour'"), std::string::npos)
      << parsed.errors[3];
}

TEST(FrameworkFile, SyntaxErrorIsLocated) {
  auto parsed = route::ParseFrameworkFile("meta_category: {id: 1\ncategories: [\n", "broken.yaml");
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].rfind("broken.yaml:", 0), 0u) << parsed.errors[0];
  EXPECT_NE(parsed.errors[0].find("invalid YAML"), std::string::npos);
}

TEST(FrameworkFile, JsonOutputNeedsSchemaWithType) {
  std::string text = kSmallFile;
  text.replace(text.find("schema: {type: object,"), 22, "schema: {kind: object,");
  auto parsed = route::ParseFrameworkFile(text, "s.yaml");
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_NE(parsed.errors[0].find("to be a mapping with a 'type'"), std::string::npos)
      << parsed.errors[0];
}

TEST(FrameworkId, AcceptsThreePositiveNumbers) {
  EXPECT_TRUE(route::IsFrameworkId("2.3.5"));
  EXPECT_TRUE(route::IsFrameworkId("12.3.15"));
  EXPECT_FALSE(route::IsFrameworkId("2.3"));
  EXPECT_FALSE(route::IsFrameworkId("2.03.5"));
  EXPECT_FALSE(route::IsFrameworkId("2.3.5.1"));
  EXPECT_FALSE(route::IsFrameworkId("2..5"));
  EXPECT_FALSE(route::IsFrameworkId("a.b.c"));
}

TEST(FrameworkLibrary, LaterSourceOverridesAndAdds) {
  TempDir base, mine;
  base.Write("a.yaml", kSmallFile);
  std::string override_text = kSmallFile;
  override_text.replace(override_text.find("Widget pricing ladder"), 21, "Better widget ladder");
  override_text.replace(override_text.find("9.1.2"), 5, "9.1.3");
  mine.Write("z.yml", override_text);
  auto lib = FrameworkLibrary::Load({base.path(), mine.path()}, "/");
  ASSERT_TRUE(lib) << lib.error().ToString();
  EXPECT_EQ(lib->size(), 3u);
  ASSERT_NE(lib->Find("9.1.1"), nullptr);
  EXPECT_EQ(lib->Find("9.1.1")->name, "Better widget ladder");
  EXPECT_NE(lib->Find("9.1.2"), nullptr);
  EXPECT_NE(lib->Find("9.1.3"), nullptr);
  EXPECT_EQ(lib->Find("9.1.4"), nullptr);
}

TEST(FrameworkLibrary, RelativeSourceResolvesAgainstBaseDir) {
  TempDir base;
  base.Write("mine/a.yaml", kSmallFile);
  auto lib = FrameworkLibrary::Load({"mine"}, base.path());
  ASSERT_TRUE(lib) << lib.error().ToString();
  EXPECT_EQ(lib->size(), 2u);
}

TEST(FrameworkLibrary, DuplicateIdInOneSourceIsAnError) {
  TempDir base;
  base.Write("a.yaml", kSmallFile);
  base.Write("b.yaml", kSmallFile);
  auto lib = FrameworkLibrary::Load({base.path()}, "/");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(lib.error().message().find("b.yaml:6:9: duplicate framework id '9.1.1' (first "
                                       "defined at " +
                                       base.path() + "/a.yaml:6:9)"),
            std::string::npos)
      << lib.error().message();
}

TEST(FrameworkLibrary, MissingSourceIsNotFound) {
  auto lib = FrameworkLibrary::Load({"/nonexistent/frameworks"}, "/");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code(), StatusCode::kNotFound);
  EXPECT_NE(lib.error().message().find("/nonexistent/frameworks"), std::string::npos);
}

TEST(FrameworkLibrary, EnvironmentOverridesDefaultDir) {
  TempDir dir;
  dir.Write("x.yaml", kSmallFile);
  setenv("CHORUS_FRAMEWORKS_DIR", dir.path().c_str(), 1);
  auto lib = FrameworkLibrary::Load({"default"}, "/");
  unsetenv("CHORUS_FRAMEWORKS_DIR");
  ASSERT_TRUE(lib) << lib.error().ToString();
  EXPECT_EQ(lib->size(), 2u);
  EXPECT_EQ(FrameworkLibrary::DefaultDir(), std::string(CHORUS_SOURCE_DIR) + "/frameworks/default");
}

TEST(FrameworkLibrary, ListFiltersByWholeIdParts) {
  TempDir dir;
  std::string text = kSmallFile;
  dir.Write("a.yaml", text);
  std::string ten = text;
  ten.replace(ten.find("id: 9.1\n"), 8, "id: 9.10\n");
  ten.replace(ten.find("9.1.1"), 5, "9.10.1");
  ten.replace(ten.find("9.1.2"), 5, "9.10.2");
  dir.Write("b.yaml", ten);
  auto lib = FrameworkLibrary::Load({dir.path()}, "/");
  ASSERT_TRUE(lib) << lib.error().ToString();
  auto in_9_1 = lib->List("9.1");
  ASSERT_EQ(in_9_1.size(), 2u);
  EXPECT_EQ(in_9_1[0]->id, "9.1.1");
  auto all = lib->List("");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[2]->id, "9.10.1");  // numeric order, not text order
  EXPECT_EQ(lib->List("9.1.2").size(), 1u);
  EXPECT_TRUE(lib->List("8").empty());
}

TEST(FrameworkLibrary, SearchRanksNameAndTriggerMatchesFirst) {
  TempDir dir;
  dir.Write("a.yaml", kSmallFile);
  auto lib = FrameworkLibrary::Load({dir.path()}, "/");
  ASSERT_TRUE(lib);
  auto hits = lib->Search("what price for my widgets", 5);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].framework->id, "9.1.1");
  EXPECT_TRUE(lib->Search("completely unrelated words", 5).empty());
  EXPECT_TRUE(lib->Search("widgets", 0).empty());
}

// The shipped library: 7 x 7 x 7, complete, unique and well-formed.
TEST(DefaultLibrary, Has343CompleteUniqueEntries) {
  const FrameworkLibrary& lib = DefaultLibrary();
  ASSERT_EQ(lib.size(), 343u);
  std::set<std::string> names, meta_names, category_names;
  for (int m = 1; m <= 7; ++m) {
    EXPECT_EQ(lib.List(std::to_string(m)).size(), 49u) << "meta-category " << m;
    for (int c = 1; c <= 7; ++c) {
      for (int f = 1; f <= 7; ++f) {
        std::string id = std::to_string(m) + "." + std::to_string(c) + "." + std::to_string(f);
        const Framework* fw = lib.Find(id);
        ASSERT_NE(fw, nullptr) << "missing " << id;
        EXPECT_TRUE(names.insert(fw->name).second) << "duplicate name " << fw->name << " at " << id;
        meta_names.insert(fw->meta_category);
        category_names.insert(fw->category);
        EXPECT_FALSE(fw->summary.empty()) << id;
        EXPECT_GE(fw->triggers.size(), 3u) << id;
        EXPECT_GE(fw->examples.size(), 2u) << id;
        EXPECT_GE(fw->instructions.size(), 3u) << id;
        DelegationBrief brief;
        brief.objective = "apply " + fw->name;
        brief.output = fw->output;
        EXPECT_TRUE(ValidateBrief(brief).ok()) << id << ": " << ValidateBrief(brief).ToString();
        if (fw->output.format == OutputFormat::kMarkdown) {
          EXPECT_GE(fw->output.sections.size(), 2u) << id;
        } else {
          ASSERT_EQ(fw->output.format, OutputFormat::kJson) << id;
          // The schema must be usable: the empty object is judged, not rejected outright.
          EXPECT_TRUE(fw->output.schema.is_object()) << id;
          EXPECT_TRUE(fw->output.schema.contains("type")) << id;
        }
      }
    }
  }
  EXPECT_EQ(meta_names.size(), 7u);
  EXPECT_EQ(category_names.size(), 49u);
}

TEST(DefaultLibrary, SearchFindsWellKnownFrameworksByName) {
  const FrameworkLibrary& lib = DefaultLibrary();
  for (const Framework* fw : lib.List()) {
    auto hits = lib.Search(fw->name, 3);
    bool found = false;
    for (const SearchHit& h : hits) found = found || h.framework == fw;
    EXPECT_TRUE(found) << fw->id << " '" << fw->name << "' is not in the top 3 for its own name";
  }
}

}  // namespace
}  // namespace chorus
