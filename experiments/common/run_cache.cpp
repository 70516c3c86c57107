#include "common/run_cache.hpp"

#include "twofour/io/atomic_file.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

void validate_key(const std::string& key) {
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos ||
      key.find('\0') != std::string::npos)
    throw std::invalid_argument("run cache: '" + key + "' is not a valid run key");
}

// Scalar leaves in the dump's (sorted) order, as slug words.
void slug_words(const json& j, std::string& slug) {
  if (j.is_object() || j.is_array()) {
    for (const auto& child : j) slug_words(child, slug);
    return;
  }
  if (j.is_null()) return;
  std::string text = j.is_string() ? j.get<std::string>() : j.dump();
  std::string word;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.') word += static_cast<char>(std::tolower(u));
    else if (!word.empty() && word.back() != '-') word += '-';
  }
  while (!word.empty() && word.back() == '-') word.pop_back();
  if (word.empty()) return;
  if (!slug.empty()) slug += '-';
  slug += word;
}

}  // namespace

RunCache::RunCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::filesystem::path RunCache::file_for(const std::string& key) const {
  validate_key(key);
  return dir_ / (key + ".json");
}

std::filesystem::path RunCache::dir_for(const std::string& key) const {
  validate_key(key);
  return dir_ / key;
}

std::optional<json> RunCache::find(const std::string& key) const {
  const auto path = file_for(key);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception&) {
    std::cerr << "warning: " << path.string() << " is not valid JSON; recomputing that run\n";
    return std::nullopt;
  }
}

void RunCache::store(const std::string& key, const json& value) const {
  const auto path = file_for(key);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
  io::write_file_atomically(path, value.dump(1) + "\n");
}

std::uint64_t stable_hash(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a offset basis and prime (64-bit)
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string run_key(const json& config) {
  std::string slug;
  slug_words(config, slug);
  return run_key(slug, config);
}

std::string run_key(const std::string& label, const json& config) {
  std::string slug;
  slug_words(json(label), slug);
  if (slug.size() > 60) slug.resize(60);
  while (!slug.empty() && (slug.back() == '-' || slug.back() == '.')) slug.pop_back();
  while (!slug.empty() && slug.front() == '.') slug.erase(slug.begin());
  char hash[24];
  std::snprintf(hash, sizeof hash, "%012llx",
                static_cast<unsigned long long>(stable_hash(config.dump()) & 0xffffffffffffull));
  return slug.empty() ? std::string(hash) : slug + "-" + hash;
}

}  // namespace twofour::experiments
