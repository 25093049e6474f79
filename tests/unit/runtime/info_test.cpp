#include "runtime/info.h"

#include <gtest/gtest.h>

namespace sluice::runtime {
namespace {

TEST(ShowInfo, OneTableThreeForms) {
  CliEnv env;
  env.maxconn = 7;
  env.hard_maxconn = 9;
  env.node = "n1";
  const auto fields = info_fields(env);
  // Positions grow (haproxy's numbering, with its gaps); tags are three letters.
  for (std::size_t i = 1; i < fields.size(); ++i) EXPECT_LT(fields[i - 1].pos, fields[i].pos);
  for (const auto& f : fields) EXPECT_EQ(f.tags.size(), 3U) << f.name;
  const std::string plain = info_plain(fields);
  EXPECT_EQ(plain.rfind("Name: Sluice\nVersion: ", 0), 0U);
  EXPECT_NE(plain.find("\nMaxconn: 7\nHard_maxconn: 9\n"), std::string::npos);
  const std::string typed = info_typed(fields);
  EXPECT_EQ(typed.rfind("0.Name.1:POS:str:Sluice\n", 0), 0U);
  EXPECT_NE(typed.find("\n15.Maxconn.1:CLP:u32:7\n16.Hard_maxconn.1:CLP:u32:9\n"),
            std::string::npos);
  EXPECT_NE(typed.find("\n49.Idle_pct.1:MaP:u32:100\n50.node.1:COS:str:n1\n52.Stopping."),
            std::string::npos);
  EXPECT_NE(typed.find("\n54.Unstoppable Jobs.1:MGP:u32:0\n"), std::string::npos);
  const std::string json = info_json(fields);
  EXPECT_EQ(json.front(), '[');
  EXPECT_EQ(json.back(), ']');
  EXPECT_NE(json.find("{\"field\":{\"pos\":15,\"name\":\"Maxconn\"},\"processNum\":1,"
                      "\"tags\":{\"origin\":\"Config\",\"nature\":\"Limit\",\"scope\":"
                      "\"Process\"},\"value\":{\"type\":\"u32\",\"value\":7}}"),
            std::string::npos);
  EXPECT_NE(json.find("{\"field\":{\"pos\":50,\"name\":\"node\"},\"processNum\":1,"
                      "\"tags\":{\"origin\":\"Config\",\"nature\":\"Output\",\"scope\":"
                      "\"Service\"},\"value\":{\"type\":\"str\",\"value\":\"n1\"}}"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::runtime
