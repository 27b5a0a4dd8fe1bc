// Runs s3rver (same arguments as its own command) with one fix for the tests: s3rver 3.7.1 answers a
// PUT or a completed multipart upload as soon as it has hashed the body, before the object's file
// has all of it, so a GET straight after can read a short object (it failed a download test now and
// then). Here a write is answered only once the file holds every byte. Real S3 needs no such wait:
// it is read-after-write consistent.
'use strict';

const fs = require('fs');
const path = require('path');
const FilesystemStore = require(path.join(__dirname, 'node_modules', 's3rver', 'lib', 'stores', 'filesystem'));

const putObject = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = async function (object) {
  const written = await putObject.call(this, object);
  const file = this.getResourcePath(object.bucket, object.key, 'object');
  // Objects here are written once under fresh keys, so the file's size tells when the write is done.
  while ((await fs.promises.stat(file)).size < written.size) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }

  return written;
};

require(path.join(__dirname, 'node_modules', 's3rver', 'bin', 's3rver.js'));
