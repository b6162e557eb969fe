// A call in a workspace: a mesh of WebRTC connections, one per other member in the call. Who is
// in which call comes from presence (the daemon carries `call` for us); the offers, answers and ICE
// candidates go through the daemons (POST /calls/signal, the 'call-signal' event); the media flows
// browser to browser. Whoever joins offers to everyone already in the call, so offers cross only
// when two join at once: then the member with the smaller key wins (it ignores the other's offer,
// the other gives its own up), as in WebRTC's "perfect negotiation". ICE servers are the TURN
// servers of the workspace's relays (GET /calls/servers), so members behind NATs still connect.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../../api/client.ts';
import { api } from '../../api/endpoints.ts';
import type { CallSignal, MemberInfo } from '../../api/types.ts';
import { useApp, usePeerEvents } from '../../app/app-state.tsx';
import { useNotify } from '../../components/Toasts.tsx';


export interface RemoteMedia { key: string; stream: MediaStream; state: RTCPeerConnectionState }

export interface CallState {
  /** The workspace of the call we are in, and the call, if any. */
  ws: string | undefined;
  call: string | undefined;
  /** Members of the call's workspace, as last heard (presence). */
  members: MemberInfo[];
  local: MediaStream | undefined;
  remotes: RemoteMedia[];
  micOn: boolean;
  cameraOn: boolean;
  joining: boolean;
  start(ws: string, video: boolean): Promise<void>;
  /** Joins `call` of `ws`, offering to `peers` (the members whose presence names it). */
  join(ws: string, call: string, video: boolean, peers: string[]): Promise<void>;
  leave(): Promise<void>;
  toggleMic(): void;
  toggleCamera(): void;
  /** Our screen goes out instead of our camera while sharing (it ends when the browser's own "stop" is used too). */
  sharing: boolean;
  shareScreen(): Promise<void>;
  stopSharing(): void;
}

interface Link { pc: RTCPeerConnection; stream: MediaStream; pending: RTCIceCandidateInit[]; makingOffer: boolean; videoSender?: RTCRtpSender }

/** How long a member's presence may not name our call before we hang up on them (presence expires in 7 s). */
const LEFT_GRACE_MS = 8000;

function newCallId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * The page's one call, wherever in the app we are: it lives beside the app state, not in a
 * workspace view, so browsing other workspaces does not hang up (CallProvider).
 */
export function useCallEngine(): CallState {
  const { myKey, stream: events } = useApp();
  const notify = useNotify();
  const [ws, setWs] = useState<string | undefined>();
  const wsRef = useRef<string | undefined>(undefined);
  const [members, setMembers] = useState<MemberInfo[]>([]);
  const [call, setCall] = useState<string | undefined>();
  const [local, setLocal] = useState<MediaStream | undefined>();
  const [remotes, setRemotes] = useState<RemoteMedia[]>([]);
  const [micOn, setMicOn] = useState(true);
  const [cameraOn, setCameraOn] = useState(true);
  const [joining, setJoining] = useState(false);
  const [sharing, setSharing] = useState(false);
  /** The screen track while we share it. */
  const screenRef = useRef<MediaStreamTrack | undefined>(undefined);
  const links = useRef(new Map<string, Link>());
  const callRef = useRef<string | undefined>(undefined);
  const localRef = useRef<MediaStream | undefined>(undefined);
  /** The relays' TURN servers (asked for on entering a call), and whether media must go through them. */
  const rtcConfig = useRef<RTCConfiguration>({ iceServers: [] });

  const publish = useCallback(() => {
    setRemotes([...links.current].map(([key, l]) => ({ key, stream: l.stream, state: l.pc.connectionState })));
  }, []);

  const signal = useCallback((to: string, s: CallSignal) => {
    const w = wsRef.current;
    if (!w) return;
    void api.callSignal(w, to, s).catch((err: unknown) => notify(`The call could not reach a member: ${errorText(err)}`, 'error'));
  }, [notify]);

  const drop = useCallback((key: string) => {
    const l = links.current.get(key);
    if (!l) return;
    links.current.delete(key);
    l.pc.close();
    publish();
  }, [publish]);

  /** The connection with `key`, made on first use. */
  const link = useCallback((key: string): Link => {
    let l = links.current.get(key);
    if (l) return l;
    const pc = new RTCPeerConnection(rtcConfig.current);
    const created: Link = { pc, stream: new MediaStream(), pending: [], makingOffer: false };
    l = created;
    links.current.set(key, l);
    const captured = localRef.current;
    if (captured) {
      for (const track of captured.getAudioTracks()) pc.addTrack(track, captured);
      // While we share our screen, a newcomer gets the screen where the camera would be.
      const video = screenRef.current ?? captured.getVideoTracks()[0];
      // Without a camera we still ask for the others' video (an offer without a video line could
      // get none back), and keep the slot for a screen we may share later.
      created.videoSender = video ? pc.addTrack(video, captured) : pc.addTransceiver('video', { direction: 'recvonly' }).sender;
    }
    pc.onicecandidate = (e) => {
      const id = callRef.current;
      if (!id) return;
      const c = e.candidate;
      signal(key, { call: id, type: 'ice', candidate: c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } : { candidate: '', sdpMid: null, sdpMLineIndex: null } });
    };
    pc.ontrack = (e) => { if (!created.stream.getTracks().includes(e.track)) created.stream.addTrack(e.track); publish(); };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') drop(key);
      else publish();
    };
    publish();
    return l;
  }, [signal, publish, drop]);

  const offerTo = useCallback(async (key: string) => {
    const id = callRef.current;
    if (!id) return;
    const l = link(key);
    l.makingOffer = true;
    try {
      await l.pc.setLocalDescription(await l.pc.createOffer());
      signal(key, { call: id, type: 'offer', sdp: l.pc.localDescription!.sdp });
    } finally {
      l.makingOffer = false;
    }
  }, [link, signal]);

  const onSignal = useCallback(async (from: string, s: CallSignal) => {
    if (s.call !== callRef.current) return; // a call we are not in (or left)
    if (s.type === 'bye') { drop(from); return; }
    const l = link(from);
    if (s.type === 'offer') {
      const collision = l.makingOffer || l.pc.signalingState !== 'stable';
      // Crossed offers: the smaller key keeps its own; the other takes this one instead.
      if (collision && myKey < from) return;
      await l.pc.setRemoteDescription({ type: 'offer', sdp: s.sdp! });
      await l.pc.setLocalDescription(await l.pc.createAnswer());
      signal(from, { call: s.call, type: 'answer', sdp: l.pc.localDescription!.sdp });
    } else if (s.type === 'answer') {
      if (l.pc.signalingState !== 'have-local-offer') return;
      await l.pc.setRemoteDescription({ type: 'answer', sdp: s.sdp! });
    } else if (s.type === 'ice' && s.candidate) {
      if (!l.pc.remoteDescription) { l.pending.push(s.candidate); return; }
      await l.pc.addIceCandidate(s.candidate).catch(() => undefined);
      return;
    }
    for (const c of l.pending.splice(0)) await l.pc.addIceCandidate(c).catch(() => undefined);
  }, [link, drop, signal, myKey]);

  // Who is in the call's workspace: followed while we are in a call there.
  const membersTimer = useRef<number | undefined>(undefined);
  const loadMembers = useCallback(() => {
    const w = wsRef.current;
    if (!w || membersTimer.current !== undefined) return;
    membersTimer.current = window.setTimeout(() => {
      membersTimer.current = undefined;
      void api.members(w).then((m) => { if (wsRef.current === w) setMembers(m); }, () => undefined);
    }, 200);
  }, []);

  usePeerEvents((e) => {
    if (e.workspace !== wsRef.current) return;
    if (e.type === 'call-signal') onSignal(e.from, e.signal).catch((err: unknown) => notify(`Call: ${errorText(err)}`, 'error'));
    else if (e.type === 'presence' || e.type === 'members') loadMembers();
  });

  // Back after the event stream broke: our daemon may have given our call up (it does when no
  // page of ours is connected for a while), so say again that we are in it.
  useEffect(() => events.onState((st) => {
    if (st === 'open' && callRef.current && wsRef.current) void api.presence(wsRef.current, { call: callRef.current }).catch(() => undefined);
  }), [events]);

  // Members who left the call without a goodbye (a crashed page, a lost daemon) are hung up on once
  // their presence has not named the call for LEFT_GRACE_MS: a member list read just before a
  // newcomer's presence arrived must not cut the connection it is opening.
  const membersRef = useRef(members);
  membersRef.current = members;
  const missingSince = useRef(new Map<string, number>());
  useEffect(() => {
    if (!call) return;
    const check = () => {
      const now = Date.now();
      for (const key of [...links.current.keys()]) {
        const m = membersRef.current.find((x) => x.key === key);
        if (m && m.online && m.call === call) { missingSince.current.delete(key); continue; }
        const since = missingSince.current.get(key) ?? now;
        missingSince.current.set(key, since);
        if (now - since >= LEFT_GRACE_MS) { missingSince.current.delete(key); drop(key); }
      }
    };
    check();
    const timer = window.setInterval(check, 1000);
    return () => window.clearInterval(timer);
  }, [members, call, drop]);

  const enter = useCallback(async (w: string, id: string, video: boolean, peers: string[]) => {
    if (callRef.current) return; // one call at a time
    setJoining(true);
    try {
      // Direct where possible, else through a relay's TURN server (or always, if our daemon says so).
      const servers = await api.callServers(w);
      if (servers.relayOnly && servers.iceServers.length === 0) throw new Error('this device makes calls only through a relay, and no relay of this workspace with a TURN server is reachable');
      rtcConfig.current = { iceServers: servers.iceServers, iceTransportPolicy: servers.relayOnly ? 'relay' : 'all' };
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
      localRef.current = stream;
      callRef.current = id;
      wsRef.current = w;
      setWs(w);
      setMembers([]);
      loadMembers();
      setLocal(stream);
      setCall(id);
      setMicOn(true);
      setCameraOn(video);
      await api.presence(w, { call: id });
      for (const key of peers) await offerTo(key);
    } catch (err) {
      notify(err instanceof DOMException ? `Camera or microphone unavailable: ${err.message}` : errorText(err), 'error');
      for (const t of localRef.current?.getTracks() ?? []) t.stop();
      localRef.current = undefined;
      callRef.current = undefined;
      wsRef.current = undefined;
      setWs(undefined);
      setLocal(undefined);
      setCall(undefined);
    } finally {
      setJoining(false);
    }
  }, [offerTo, notify, loadMembers]);

  const start = useCallback((w: string, video: boolean) => enter(w, newCallId(), video, []), [enter]);
  const join = useCallback((w: string, id: string, video: boolean, peers: string[]) => enter(w, id, video, peers.filter((k) => k !== myKey)), [enter, myKey]);

  /** Ends our part in the call; returns its workspace (undefined if we were in none). */
  const hangUp = useCallback((): string | undefined => {
    const id = callRef.current;
    if (!id) return undefined;
    for (const key of [...links.current.keys()]) { signal(key, { call: id, type: 'bye' }); drop(key); }
    for (const t of localRef.current?.getTracks() ?? []) t.stop();
    screenRef.current?.stop();
    screenRef.current = undefined;
    setSharing(false);
    localRef.current = undefined;
    callRef.current = undefined;
    setLocal(undefined);
    setCall(undefined);
    const w = wsRef.current;
    wsRef.current = undefined;
    setWs(undefined);
    setMembers([]);
    return w;
  }, [signal, drop]);

  const leave = useCallback(async () => {
    const w = hangUp();
    if (w) await api.presence(w, { call: null }).catch(() => undefined);
  }, [hangUp]);

  // Closing the page (or the app going away) ends our part in the call.
  useEffect(() => {
    const onHide = () => {
      const w = hangUp();
      if (!w) return;
      void fetch(`/api/workspaces/${encodeURIComponent(w)}/presence`, { method: 'POST', keepalive: true, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-Trellis-Request': '1' }, body: JSON.stringify({ call: null }) }).catch(() => undefined);
    };
    window.addEventListener('pagehide', onHide);
    return () => { window.removeEventListener('pagehide', onHide); const w = hangUp(); if (w) void api.presence(w, { call: null }).catch(() => undefined); };
  }, [hangUp]);

  const toggleMic = useCallback(() => {
    const on = !micOn;
    for (const t of localRef.current?.getAudioTracks() ?? []) t.enabled = on;
    setMicOn(on);
  }, [micOn]);

  const toggleCamera = useCallback(() => {
    const on = !cameraOn;
    for (const t of localRef.current?.getVideoTracks() ?? []) t.enabled = on;
    setCameraOn(on);
  }, [cameraOn]);

  const stopSharing = useCallback(() => {
    const screen = screenRef.current;
    if (!screen) return;
    screenRef.current = undefined;
    screen.stop();
    const camera = localRef.current?.getVideoTracks()[0] ?? null;
    for (const l of links.current.values()) void l.videoSender?.replaceTrack(camera).catch(() => undefined);
    setLocal(localRef.current);
    setSharing(false);
  }, []);

  const shareScreen = useCallback(async () => {
    if (!callRef.current || screenRef.current) return;
    let screen: MediaStreamTrack;
    try {
      screen = (await navigator.mediaDevices.getDisplayMedia({ video: true })).getVideoTracks()[0];
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) notify(`Cannot share the screen: ${errorText(err)}`, 'error');
      return;
    }
    screenRef.current = screen;
    screen.addEventListener('ended', stopSharing);
    for (const [key, l] of links.current) {
      if (!l.videoSender) continue;
      await l.videoSender.replaceTrack(screen);
      // Joined without a camera: that video slot only received so far; now it sends too (negotiated again).
      const slot = l.pc.getTransceivers().find((t) => t.sender === l.videoSender);
      if (slot && (slot.direction === 'recvonly' || slot.direction === 'inactive')) {
        slot.direction = 'sendrecv';
        await offerTo(key);
      }
    }
    setLocal(new MediaStream([screen]));
    setSharing(true);
  }, [notify, offerTo, stopSharing]);

  return { ws, call, members, local, remotes, micOn, cameraOn, joining, start, join, leave, toggleMic, toggleCamera, sharing, shareScreen, stopSharing };
}
