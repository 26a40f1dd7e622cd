import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { file_tinyv_v1_verifier, VerifierService } from "../gen/tinyv/v1/verifier_pb.js";
import { healthFileDescriptor } from "./health-descriptor.js";

/** The contract (and health) as a serialized FileDescriptorSet, for server reflection: no .proto read at run time. */
export function descriptorSet(): Buffer {
  const set = create(FileDescriptorSetSchema, {
    file: [file_tinyv_v1_verifier.proto, healthFileDescriptor()],
  });
  return Buffer.from(toBinary(FileDescriptorSetSchema, set));
}

/** Encode and decode for grpc-js. A message that fails to decode comes back as an Error, not a throw. */
export function codec<T extends DescMessage>(schema: T) {
  return {
    serialize: (msg: unknown) => Buffer.from(toBinary(schema, msg as never)),
    deserialize: (buf: Buffer) => {
      try {
        return fromBinary(schema, buf);
      } catch (err) {
        return new Error(`cannot decode ${schema.typeName}: ${(err as Error).message}`);
      }
    },
  };
}

/** grpc-js's view of tinyv.v1.VerifierService, from the generated descriptors (servers and clients alike). */
export function serviceDefinition(): ServiceDefinition {
  const streams = (kind: string, side: string) => kind === "bidi_streaming" || kind === `${side}_streaming`;
  return Object.fromEntries(
    VerifierService.methods.map((method) => {
      const input = codec(method.input);
      const output = codec(method.output);
      const definition: MethodDefinition<unknown, unknown> = {
        path: `/${VerifierService.typeName}/${method.name}`,
        requestStream: streams(method.methodKind, "client"),
        responseStream: streams(method.methodKind, "server"),
        requestSerialize: input.serialize,
        requestDeserialize: input.deserialize,
        responseSerialize: output.serialize,
        responseDeserialize: output.deserialize,
      };
      return [method.name, definition];
    }),
  );
}
