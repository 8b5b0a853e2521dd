#pragma once
// Where images are read from and written to: an OCI layout, or one
// repository of a registry. Copy, push and manifest create work on these.

#include <memory>
#include <optional>
#include <string>

#include "engine/image/layout.hpp"
#include "engine/registry/client.hpp"

namespace polyarch::publish {

using image::Descriptor;
using registry::FetchedManifest;

class ImageStore {
 public:
  virtual ~ImageStore() = default;

  // For messages: "oci:dist/x.tar", "localhost:5000/app".
  virtual std::string name() const = 0;
  // The manifest or index a tag or digest names ("" = the store's only image).
  // Throws failure when absent.
  virtual FetchedManifest resolve(const std::string& reference) = 0;
  // A child manifest's bytes, verified against its descriptor.
  virtual std::string read_manifest(const Descriptor& descriptor) = 0;
  // A small blob (an image config), whole and verified.
  virtual std::string read_small_blob(const Descriptor& descriptor) = 0;
  // Streams a blob into sink, verified.
  virtual void read_blob(const Descriptor& descriptor, const registry::BodySink& sink) = 0;
  // A reader for random access to a blob, when the store has one (layouts).
  virtual registry::BodyReader blob_reader(const Descriptor&) { return {}; }

  virtual bool has_blob(const Descriptor& descriptor) = 0;
  // Makes a blob of `from` appear here without transferring it (a registry's
  // cross-repository mount); false when this store cannot, or it failed.
  virtual bool mount_blob(const Descriptor&, ImageStore&) { return false; }
  // True when manifests may be read and written from several threads at once.
  virtual bool concurrent_manifests() const { return false; }
  // Writes a blob read from `from`; returns true when it was mounted rather
  // than transferred.
  virtual bool write_blob(const Descriptor& descriptor, ImageStore& from) = 0;
  virtual bool has_manifest(const Descriptor& descriptor) = 0;
  // Stores manifest bytes by digest, and under `tag` when not empty.
  virtual void write_manifest(const Descriptor& descriptor, const std::string& bytes,
                              const std::string& tag) = 0;
  // Called once after the last write (layouts finish their archive here).
  virtual void commit() {}
};

// A store for an OCI layout, opened for reading or created for writing.
std::unique_ptr<ImageStore> open_layout_store(const image::LayoutRef& ref, bool for_writing);

// Streams a blob from a store into a layout's blobs (verified, then renamed
// into place). Throws failure; leaves no partial blob behind.
void download_blob(ImageStore& from, const Descriptor& descriptor, image::LayoutDir& into);

// A store for one repository of a registry (the client outlives the store).
std::unique_ptr<ImageStore> registry_store(registry::Client& client, std::string repository);

}  // namespace polyarch::publish
