/**
 * `@owner` annotations in description.html name the people to ask about a
 * job (`@owner alice`, `@owner: bob@example.com`). They become the `owners`
 * output so other tooling can route alerts without parsing HTML.
 */
const OWNER = /@owners?\s*:?\s*([^\s<>"',;]+(?:\s*,\s*[^\s<>"',;]+)*)/g;

export function parseOwners(description: string): string[] {
  const owners: string[] = [];
  for (const match of description.matchAll(OWNER)) {
    for (const raw of (match[1] ?? "").split(",")) {
      const owner = raw.trim().replace(/[.)]+$/, "");
      if (owner && !owners.includes(owner)) owners.push(owner);
    }
  }
  return owners;
}
