// The call strip of a workspace: start a call, or join the one going on (from members' presence),
// and, once in it, every participant's video (or initial, for audio only) with the controls. In a
// call elsewhere, it says so and leads back to it.
import { useEffect, useRef } from 'react';
import type { MemberInfo } from '../../api/types.ts';
import { useApp } from '../../app/app-state.tsx';
import { navigate } from '../../lib/router.ts';
import { useCall } from './call-context.tsx';
import type { RemoteMedia } from './use-call.ts';

function Video({ stream, muted, label }: { stream: MediaStream; muted: boolean; label: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => { if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream; }, [stream]);
  return <video ref={ref} autoPlay playsInline muted={muted} aria-label={label} data-call-video={label} />;
}

function Tile({ name, stream, muted, video, state }: { name: string; stream: MediaStream; muted: boolean; video: boolean; state?: RemoteMedia['state'] }) {
  return (
    <figure className="call-tile" data-member={name}>
      {video ? <Video stream={stream} muted={muted} label={`Video of ${name}`} /> : <span className="call-initial" aria-hidden="true">{[...name][0]?.toUpperCase()}</span>}
      {!video && <Video stream={stream} muted={muted} label={`Audio of ${name}`} />}
      <figcaption>{name}{state && state !== 'connected' ? ` · ${state}` : ''}</figcaption>
    </figure>
  );
}

export function CallBar({ ws, members }: { ws: string; members: MemberInfo[] }) {
  const { myKey, me, workspaces } = useApp();
  const state = useCall();
  const others = members.filter((m) => m.key !== myKey && m.online);
  if (state.call && state.ws !== ws) {
    // In a call in another workspace: it goes on while we look around here.
    const there = workspaces.find((w) => w.id === state.ws)?.name ?? 'another workspace';
    return (
      <div className="call-bar" role="region" aria-label="Call">
        <span className="call-live" aria-hidden="true" />
        <span className="small">You are in a call in {there}</span>
        <button type="button" className="button" onClick={() => navigate({ workspace: state.ws })}>Back to the call</button>
        <button type="button" className="button danger subtle" onClick={() => void state.leave()}>Leave call</button>
      </div>
    );
  }
  if (!state.call) {
    const inCall = others.filter((m) => m.call);
    const ongoing = inCall[0]?.call;
    const peers = ongoing ? inCall.filter((m) => m.call === ongoing).map((m) => m.key) : [];
    return (
      <div className="call-bar" role="region" aria-label="Call">
        {ongoing ? (
          <>
            <span className="call-live" aria-hidden="true" />
            <span className="small">{inCall.filter((m) => m.call === ongoing).map((m) => m.name).join(', ')} in a call</span>
            <button type="button" className="button primary" disabled={state.joining} onClick={() => void state.join(ws, ongoing, true, peers)}>Join call</button>
            <button type="button" className="button" disabled={state.joining} onClick={() => void state.join(ws, ongoing, false, peers)}>Join with audio only</button>
          </>
        ) : (
          <>
            <button type="button" className="button" disabled={state.joining} onClick={() => void state.start(ws, true)}>Start a video call</button>
            <button type="button" className="button subtle" disabled={state.joining} onClick={() => void state.start(ws, false)}>Audio call</button>
          </>
        )}
      </div>
    );
  }
  const known = state.members.length > 0 ? state.members : members;
  const nameOf = (key: string) => known.find((m) => m.key === key)?.name ?? key.slice(0, 8);
  return (
    <section className="call-panel" aria-label="In a call">
      <div className="call-grid">
        {state.local && <Tile name={`${me.name} (you)`} stream={state.local} muted video={state.local.getVideoTracks().length > 0} />}
        {state.remotes.map((r) => <Tile key={r.key} name={nameOf(r.key)} stream={r.stream} muted={false} video={r.stream.getVideoTracks().length > 0} state={r.state} />)}
      </div>
      {state.remotes.length === 0 && <p className="muted small">Waiting for others to join…</p>}
      <div className="row call-controls">
        <button type="button" className="button" aria-pressed={!state.micOn} onClick={state.toggleMic}>{state.micOn ? 'Mute' : 'Unmute'}</button>
        {state.local && state.local.getVideoTracks().length > 0 && !state.sharing && (
          <button type="button" className="button" aria-pressed={!state.cameraOn} onClick={state.toggleCamera}>{state.cameraOn ? 'Camera off' : 'Camera on'}</button>
        )}
        {state.sharing
          ? <button type="button" className="button" aria-pressed="true" onClick={state.stopSharing}>Stop sharing</button>
          : <button type="button" className="button" onClick={() => void state.shareScreen()}>Share screen</button>}
        <button type="button" className="button danger" onClick={() => void state.leave()}>Leave call</button>
      </div>
    </section>
  );
}
