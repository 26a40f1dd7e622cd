// A careless VerifyStream client, as a process of its own: it writes up to N items whose answers are
// SIZE characters long, never reads a verdict, and after HOLD ms leaves as its argument says:
// "exit" (the process ends, the connection closes) or "cancel" (RST_STREAM, then exit).
// Usage: node non-reader.mjs ADDRESS N SIZE HOLD_MS exit|cancel
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { VerifyRequestSchema } from "../../dist/gen/tinyv/v1/verifier_pb.js";
import { serviceDefinition } from "../../dist/server/descriptor.js";

const [address, n, size, hold, how] = process.argv.slice(2);
const Client = grpc.makeGenericClientConstructor(serviceDefinition(), "VerifierService");
const client = new Client(address, grpc.credentials.createInsecure(), {
  "grpc.max_send_message_length": -1,
  "grpc.max_receive_message_length": -1,
});
const call = client.VerifyStream(new grpc.Metadata());
call.pause(); // never read
call.on("error", () => {});
const answer = `\\boxed{${"1".repeat(Number(size))}}`;
let sent = 0;
const write = () => {
  while (sent < Number(n)) {
    sent++;
    if (!call.write(create(VerifyRequestSchema, { id: String(sent), groundTruth: "3", response: answer }))) {
      return void call.once("drain", write);
    }
  }
  call.end();
};
write();
setTimeout(() => {
  process.stdout.write(`sent ${sent}\n`);
  if (how === "cancel") call.cancel();
  process.exit(0);
}, Number(hold));
