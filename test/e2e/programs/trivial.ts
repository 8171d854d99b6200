// N dynamic resources whose provider does nothing: the baseline of the no-op
// benchmark (scripts/bench/noop-up.ts). N comes from BTD_TRIVIAL_COUNT.
import * as pulumi from "@pulumi/pulumi";

const nothing: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff() {
    return { changes: false };
  },
  async create() {
    return { id: "trivial", outs: {} };
  },
  async update() {
    return { outs: {} };
  },
  async delete() {},
};

class Trivial extends pulumi.dynamic.Resource {}

export default async () => {
  const count = Number(process.env.BTD_TRIVIAL_COUNT ?? "3");
  for (let i = 0; i < count; i++) new Trivial(nothing, `trivial-${i}`, { i }, {});
  return {};
};
