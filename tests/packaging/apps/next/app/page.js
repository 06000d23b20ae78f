import Bench from "./bench.js";

export default function Page() {
  return (
    <main>
      <p>A client component measuring llm-sim (?baseUrl=…); the route /api/run measures from the server.</p>
      <Bench />
    </main>
  );
}
