/**
 * The Jenkins stand-in in a process of its own, for the JenkinsJob benchmark:
 * a real Jenkins is another server, so its parsing and re-serializing must not
 * share the event loop of the client being measured. Driven over the fork IPC
 * channel; counts connections and requests on the server side.
 */
import { subscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";
import { startJenkins } from "../../test/support/jenkins/index.ts";

export type StandInCommand =
  | { op: "latency"; ms: number }
  | { op: "reset" }
  | { op: "figures" }
  | { op: "stop" };

export interface StandInFigures {
  requests: number;
  writes: number;
  accepted: number;
  openSockets: number;
  maxOpenSockets: number;
  maxInFlight: number;
}

export type StandInMessage =
  | { ready: { url: string; admin: { name: string; apiToken: string } } }
  | { figures: StandInFigures }
  | { done: true };

const counters = { accepted: 0, openSockets: 0, maxOpenSockets: 0, inFlight: 0, maxInFlight: 0 };
subscribe("net.server.socket", (message) => {
  const { socket } = message as { socket: Socket };
  counters.accepted++;
  counters.openSockets++;
  counters.maxOpenSockets = Math.max(counters.maxOpenSockets, counters.openSockets);
  socket.once("close", () => {
    counters.openSockets--;
  });
});
subscribe("http.server.request.start", () => {
  counters.inFlight++;
  counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
});
subscribe("http.server.response.finish", () => {
  counters.inFlight--;
});

const send = (m: StandInMessage) => process.send?.(m);
const jenkins = await startJenkins();

process.on("message", (raw) => {
  const command = raw as StandInCommand;
  switch (command.op) {
    case "latency":
      jenkins.faults.setLatency(command.ms);
      send({ done: true });
      break;
    case "reset":
      // Maxima restart from what is open now: idle keep-alive sockets stay counted.
      jenkins.clearRequestLog();
      counters.accepted = 0;
      counters.maxOpenSockets = counters.openSockets;
      counters.maxInFlight = counters.inFlight;
      send({ done: true });
      break;
    case "figures": {
      const log = jenkins.requests();
      send({
        figures: {
          requests: log.length,
          writes: log.filter((e) => e.write).length,
          accepted: counters.accepted,
          openSockets: counters.openSockets,
          maxOpenSockets: counters.maxOpenSockets,
          maxInFlight: counters.maxInFlight,
        },
      });
      break;
    }
    case "stop":
      void jenkins.stop().then(() => process.exit(0));
      break;
  }
});
process.on("disconnect", () => void jenkins.stop().then(() => process.exit(0)));

send({ ready: { url: jenkins.url, admin: { name: jenkins.admin.name, apiToken: jenkins.admin.apiToken } } });
